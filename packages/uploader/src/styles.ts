/**
 * The shadow DOM's stylesheet. Everything a host page may restyle goes through `--hoist-*`
 * custom properties (inherited through the shadow boundary) or `::part()`.
 */
export const STYLES = `
:host {
  --_accent: var(--hoist-accent, #2563eb);
  --_on-accent: var(--hoist-on-accent, #fff);
  --_radius: var(--hoist-radius, 10px);
  --_bg: var(--hoist-background, #fff);
  --_fg: var(--hoist-color, #1f2937);
  --_muted: var(--hoist-muted, #5b6472);
  --_border: var(--hoist-border, #d5d9e0);
  --_track: var(--hoist-track, #e7eaef);
  --_danger: var(--hoist-danger, #b42318);
  --_success: var(--hoist-success, #15803d);
  --_paused: var(--hoist-paused, #a16207);
  display: block;
  color: var(--_fg);
  font: var(--hoist-font-size, 15px) / 1.45 var(--hoist-font, system-ui, -apple-system, 'Segoe UI', sans-serif);
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.vh {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}
.root { display: grid; gap: 16px; }
.dropzone {
  position: relative; display: grid; justify-items: center; gap: 4px;
  padding: 32px 16px; text-align: center; cursor: pointer;
  background: var(--_bg); border: 2px dashed var(--_border); border-radius: var(--_radius);
  transition: border-color .15s, background-color .15s;
}
.dropzone:hover, .dropzone.over {
  border-color: var(--_accent);
  background: color-mix(in srgb, var(--_accent) 7%, var(--_bg));
}
.dropzone:focus-within { outline: 3px solid color-mix(in srgb, var(--_accent) 45%, transparent); outline-offset: 2px; }
.dropzone.disabled { cursor: not-allowed; opacity: .6; border-color: var(--_border); background: var(--_bg); }
.drop-icon { width: 36px; height: 36px; color: var(--_accent); }
.drop-title { font-weight: 600; font-size: 1.05em; }
.browse { color: var(--_accent); text-decoration: underline; text-underline-offset: 2px; }
.hint { color: var(--_muted); font-size: .9em; }
.files { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
.files:empty { display: none; }
.file, .total {
  display: grid; gap: 6px; padding: 12px 14px;
  background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius);
}
.head, .foot { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; min-width: 0; }
.foot { align-items: center; flex-wrap: wrap; }
.name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.size, .stats, .total-text { color: var(--_muted); font-size: .9em; white-space: nowrap; font-variant-numeric: tabular-nums; }
.stats { display: flex; gap: 10px; flex-wrap: wrap; white-space: normal; }
.actions { display: flex; gap: 6px; margin-left: auto; }
.bar { height: 8px; background: var(--_track); border-radius: 999px; overflow: hidden; }
.fill { height: 100%; width: 0; background: var(--_accent); border-radius: inherit; transition: width .2s linear; }
[data-state=paused] .fill, [data-state=waiting] .fill { background: var(--_paused); }
[data-state=failed] .fill, [data-state=refused] .fill { background: var(--_danger); }
[data-state=completed] .fill { background: var(--_success); }
[data-state=refused] .bar { display: none; }
[data-state=completed] .status-line { color: var(--_success); font-weight: 600; }
[data-state=waiting] .status-line, [data-state=paused] .status-line { color: var(--_paused); font-weight: 600; }
.message { margin: 0; padding: 8px 10px; border-radius: calc(var(--_radius) * .6); font-size: .92em;
  background: color-mix(in srgb, var(--_danger) 9%, var(--_bg)); color: var(--_danger); }
[data-state=waiting] .message { background: color-mix(in srgb, var(--_paused) 10%, var(--_bg)); color: var(--_paused); }
button {
  font: inherit; font-size: .9em; line-height: 1.2; padding: 6px 12px; cursor: pointer;
  color: var(--_fg); background: var(--_bg);
  border: 1px solid var(--_border); border-radius: calc(var(--_radius) * .6);
}
button:hover:not(:disabled) { border-color: var(--_accent); }
button:focus-visible { outline: 3px solid color-mix(in srgb, var(--_accent) 50%, transparent); outline-offset: 1px; }
button:disabled { opacity: .55; cursor: default; }
button.primary { background: var(--_accent); color: var(--_on-accent); border-color: transparent; }
.uploads { display: grid; gap: 8px; }
.uploads-head { display: flex; align-items: center; justify-content: space-between; }
h2 { margin: 0; font-size: 1.05em; }
table { width: 100%; border-collapse: separate; border-spacing: 0; font-size: .92em; background: var(--_bg);
  border: 1px solid var(--_border); border-radius: var(--_radius); overflow: hidden; table-layout: auto; }
th, td { padding: 8px 10px; text-align: left; border-bottom: 1px solid var(--_track); vertical-align: middle; }
thead th { color: var(--_muted); font-weight: 600; font-size: .85em; text-transform: uppercase; letter-spacing: .03em; }
tbody tr:last-child > * { border-bottom: 0; }
tbody th { max-width: 18em; }
td.size { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.download { text-align: right; }
code { font: .9em/1.2 ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; word-break: break-all; }
.alg { color: var(--_muted); font-size: .8em; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: .85em; white-space: nowrap;
  background: var(--_track); }
.badge[data-status=completed] { background: color-mix(in srgb, var(--_success) 14%, var(--_bg)); color: var(--_success); }
.badge[data-status=rejected] { background: color-mix(in srgb, var(--_danger) 12%, var(--_bg)); color: var(--_danger); }
.note { margin: 0; color: var(--_muted); font-size: .92em; }
.more { justify-self: start; }
:host([no-list]) .uploads { display: none; }
@media (prefers-reduced-motion: reduce) { .fill, .dropzone { transition: none; } }
`;
