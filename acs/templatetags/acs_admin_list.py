"""The desk's admin pages, faster for the same HTML:

- `{% fast_result_list cl %}`: Django's `{% result_list cl %}` (the same template,
  admin/change_list_results.html), its rows rendered by acs/admin_rows.py where it covers
  the list; templates/admin/change_list.html uses it for every list.
- `{% sidebar_app_list %}`: the navigation sidebar's list of apps (admin/app_list.html),
  rendered once per distinct list (acs/admin_sidebar.py); templates/admin/nav_sidebar.html."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template.base import Parser, Token

from acs import admin_sidebar
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


@register.simple_tag(takes_context=True)
def sidebar_app_list(context: template.Context) -> str:
    return admin_sidebar.sidebar_app_list(context["request"], context["available_apps"])
