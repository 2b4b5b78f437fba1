"""`{% fast_result_list cl %}`: Django's `{% result_list cl %}` (the same template,
admin/change_list_results.html), its rows rendered by acs/admin_rows.py where it covers the
list. templates/admin/change_list.html uses it for every list."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template.base import Parser, Token

from acs.admin_rows import result_list

register = template.Library()


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    # As Django registers its own (admin_list.result_list_tag); django-stubs still give the
    # older signature, with a name first.
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,  # type: ignore[arg-type]
        token,  # type: ignore[arg-type]
        func=result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
