// Forms marked data-navigate are plain GET forms (QueryForm: the search box, the anomaly filters,
// the IP and fingerprint boxes). Without this script, or before the page's live connection is up,
// the browser submits them and loads the page anew. With it, the address is built the same way
// from what the form holds in the browser (blank fields left out, values trimmed) and handed to
// the page's router, so the page stays where it is and only its data changes. Either way the
// request reflects exactly what was typed, whatever the live connection has or has not seen yet.
document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-navigate')
        || form.method.toLowerCase() !== 'get' || typeof window.Blazor?.navigateTo !== 'function') {
        return;
    }
    event.preventDefault();
    const url = new URL(form.action, document.baseURI);
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
        if (typeof value === 'string' && value.trim() !== '') {
            query.append(name, value.trim());
        }
    }
    const search = query.toString();
    window.Blazor.navigateTo(url.pathname + (search ? '?' + search : ''));
});

// A click anywhere in a table row that holds a link marked data-row-link (the anomaly table's IP)
// follows that link, as the link itself would: in place, through the router. The browser does it
// alone, so a click is never lost to a re-render of the row on the live connection. Clicks on the
// row's own links and buttons, and clicks with a modifier key, keep their usual meaning.
document.addEventListener('click', (event) => {
    const target = event.target;
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey
        || !(target instanceof Element) || target.closest('a, button, input, select, textarea, label')
        || typeof window.Blazor?.navigateTo !== 'function') {
        return;
    }
    const link = target.closest('tr')?.querySelector('a[data-row-link]');
    if (link instanceof HTMLAnchorElement) {
        const url = new URL(link.href, document.baseURI);
        window.Blazor.navigateTo(url.pathname + url.search);
    }
});

// Called once by the layout when the page's live connection has rendered: the answer comes back
// after every call sent before it (the router's navigation interception among them), so the
// page is marked interactive only once links and data-navigate forms stay on the page.
window.ja4Dashboard = { ready: () => true };
