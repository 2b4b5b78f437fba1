from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), source="role_names")


class MeView(APIView):
    """Who the signed-in user is and which roles they hold: the field app starts here."""

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)
