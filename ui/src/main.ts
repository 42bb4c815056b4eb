import { firstScreenOrAfter } from "./lib/preload";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

const target = document.getElementById("app");
if (!target) throw new Error("no #app element");
// The first screen's data is usually in within a few ms of the script: mount
// with it, so the window's first paint shows the list.
await firstScreenOrAfter(250);
export default mount(App, { target });
