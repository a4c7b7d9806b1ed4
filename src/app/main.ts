import { mount } from 'svelte';
import App from './App.svelte';
import { installAutomationApi } from './automation.ts';
import { ensureIsolation } from './isolation.ts';
import './app.css';

// On a header-less static host the first visit reloads once under the isolation service worker.
if (await ensureIsolation()) {
  installAutomationApi();
  mount(App, { target: document.getElementById('app')! });
}
