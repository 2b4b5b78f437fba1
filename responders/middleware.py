"""The interface language follows the signed-in person (User.language), on any device."""

from django.utils import translation


class UserLanguageMiddleware:
    """After authentication: a user who chose a language gets it, whatever the browser says.
    Without a choice Django's LocaleMiddleware (the browser's Accept-Language) decides."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user and user.is_authenticated else ""
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if chosen:
            response.headers.setdefault("Content-Language", chosen)
        return response
