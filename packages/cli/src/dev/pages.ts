/** The stand-in page `GET /` shows until @hoist/uploader has a demo page, or when its bundles fail to build. */

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PlaceholderInfo {
  brokerUrl: string;
  /** esbuild's message when the bundles did not build. */
  buildError?: string | undefined;
}

export function placeholderPage(info: PlaceholderInfo): string {
  const reason = info.buildError
    ? `<p>The uploader's browser bundles did not build, so the upload page cannot run. Fix the error, then restart <code>hoist dev</code>:</p>
<pre>${escapeHtml(info.buildError)}</pre>`
    : '<p>The <code>&lt;hoist-uploader&gt;</code> demo page (<code>@hoist/uploader/demo.html</code>) is not built yet.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hoist dev</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}pre,code{background:#f3f3f3;padding:.1em .3em}pre{padding:1em;overflow:auto;white-space:pre-wrap}</style>
</head>
<body>
<h1>Hoist dev stack</h1>
${reason}
<p>The rest of the stack runs: the broker API is at <code>${escapeHtml(info.brokerUrl)}</code>
(the dev users and their tokens are in <a href="/config.json">/config.json</a> and in the terminal),
and files can be uploaded from the command line:</p>
<pre>npx hoist upload --broker ${escapeHtml(info.brokerUrl)} --token &lt;token&gt; FILE</pre>
</body>
</html>
`;
}
