/**
 * On a static host that sends no COOP/COEP headers, cross-origin isolation comes from a service worker
 * (public/coi-sw.js) that adds them. This registers it and reloads once; when the page is already isolated
 * (dev server, CLI, a host with headers) it does nothing. Returns false while a reload is under way.
 */
const RELOADED = 'latency-lab:coi-reload';

export async function ensureIsolation(): Promise<boolean> {
  if (self.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return true;
  }
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return true; // run without: the page says so
  try {
    const registration = await navigator.serviceWorker.register(new URL('coi-sw.js', document.baseURI), {
      scope: './',
    });
    // Reload once the worker controls the page; one try per session, so a host that blocks it can't loop us.
    if (sessionStorage.getItem(RELOADED)) return true;
    sessionStorage.setItem(RELOADED, '1');
    if (navigator.serviceWorker.controller) {
      location.reload();
      return false;
    }
    await new Promise<void>((resolve) => {
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true });
      const worker = registration.installing ?? registration.waiting ?? registration.active;
      if (worker?.state === 'activated') resolve();
    });
    location.reload();
    return false;
  } catch (e) {
    console.warn('latency-lab: no service worker for cross-origin isolation:', e);
    return true;
  }
}
