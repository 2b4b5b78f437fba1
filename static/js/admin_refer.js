// The refer panel on the resident's page (cases/admin/resident_page.py): when a service is
// picked, ask the server for its place, places free and whether the resident's consent covers
// the partner, and show them before "Refer" is pressed.
'use strict';
{
    function show(preview, data) {
        for (const node of preview.querySelectorAll('[data-preview]')) {
            node.textContent = data[node.dataset.preview] || '';
        }
        preview.querySelector('.refer-capacity').dataset.state = data.capacity_state || '';
        preview.querySelector('.refer-consent').dataset.ok = data.consent_ok ? 'yes' : 'no';
        preview.hidden = false;
    }

    function ask(preview, id) {
        if (!id) {
            preview.hidden = true;
            return;
        }
        const url = preview.dataset.url + '?service_at_location=' + encodeURIComponent(id);
        fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
            .then((response) => response.json().then((data) => ({ok: response.ok, data})))
            .then(({ok, data}) => {
                if (ok) {
                    show(preview, data);
                } else {
                    show(preview, {service: data.error || 'Not available.'});
                }
            })
            .catch(() => show(preview, {service: 'Could not check this service: try again.'}));
    }

    // On load: by then django.jQuery (jquery.init.js) and the select2 pickers
    // (autocomplete.js) are set up, whatever order the admin's media put the scripts in.
    window.addEventListener('load', function() {
        const preview = document.getElementById('refer-preview');
        const select = document.getElementById('id_refer-service_at_location');
        if (!preview || !select) {
            return;
        }
        // select2 triggers the change through jQuery.
        django.jQuery(select).on('change', () => ask(preview, select.value));
        // Nothing to offer for the words typed: the options' answer says which services they
        // meant and why those are not offered (closed, taking no referrals, not yet placed),
        // shown in place of select2's bare "No results found". jQuery reports the request
        // complete before select2 draws its answer (select2 reads it in a `then`, which jQuery
        // runs later), so the hint is kept, and put in when select2 draws its message.
        let hint = null;
        django.jQuery(document).on('ajaxComplete', (event, xhr) => {
            hint = (xhr.responseJSON && xhr.responseJSON.hint) || null;
        });
        const drawn = new MutationObserver(() => {
            const message = document.querySelector(
                '.select2-container--open .select2-results__message');
            if (hint && message && message.textContent !== hint) {
                message.textContent = hint;
                message.classList.add('refer-hint');
            }
        });
        django.jQuery(select).on('select2:open', () => {
            const list = document.getElementById('select2-' + select.id + '-results');
            if (list) {
                drawn.observe(list, {childList: true, subtree: true});
            }
        });
        django.jQuery(select).on('select2:close', () => drawn.disconnect());
        // select2's widgets take their name from the field's label, for screen readers. The
        // widget is made by autocomplete.js in a jQuery ready handler, which jQuery runs
        // asynchronously, possibly after this load event: named from a ready handler of our
        // own, which runs after it.
        django.jQuery(() => name(select));
    });

    function name(select) {
        const label = document.querySelector('label[for="' + select.id + '"]');
        const widget = select.nextElementSibling;
        if (!label || !widget) {
            return;
        }
        label.id = label.id || select.id + '-label';
        widget.querySelectorAll('.select2-selection, .select2-selection__rendered')
            .forEach((node) => node.setAttribute('aria-labelledby', label.id));
        widget.dataset.named = 'yes';
    }
}
