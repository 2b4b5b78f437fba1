"""The questionnaire import page (cases/screening/admin.py) is the shared action form
(templates/admin/record_action_form.html) about no one record: a file upload that leads back to
the forms list."""

from django.urls import reverse


def test_the_import_page_uploads_a_file_and_leads_back_to_the_list(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("admin:cases_formdefinition_import"))

    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == [
        "admin/cases/formdefinition/import.html",
        "admin/record_action_form.html",
    ]
    page = response.content.decode()
    assert 'enctype="multipart/form-data" id="questionnaire-import-form"' in page
    changelist = reverse("admin:cases_formdefinition_changelist")
    assert f'<a href="{changelist}" class="closelink">' in page
    assert 'value="Import as a draft"' in page
    # No one record: the breadcrumbs end with the list, then the page.
    assert "/change/" not in page
