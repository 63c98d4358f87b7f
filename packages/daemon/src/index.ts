export { type DaemonOptions, openNode, type RunningDaemon, startDaemon } from "./daemon.js";
export { createApp } from "./http/app.js";
