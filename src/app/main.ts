import { mount } from 'svelte';
import App from './App.svelte';
import { installAutomationApi } from './automation.ts';
import './app.css';

installAutomationApi();
mount(App, { target: document.getElementById('app')! });
