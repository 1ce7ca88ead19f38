/**
 * `hoist dev`'s /uppy page: the real Uppy Dashboard with `@uppy/aws-s3`, configured as
 * docs/uppy.md says, against the dev broker. Signing in as a dev user exchanges the user's
 * token for the broker's HttpOnly cookie (`POST …/companion/session`), which Uppy's Companion
 * requests carry. `?path=sign` uses the signRequest helper (bearer token) instead.
 */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import { hoistAwsS3Options } from '@hoist/client/uppy';
import { DEFAULT_SINGLE_REQUEST_MAX_SIZE } from '@hoist/protocol';

interface PageConfig {
  brokerUrl: string;
  users: { id: string; token: string }[];
  uppyPath?: string;
}

/** The dev broker's `singleRequestMaxSize` (its default). */
const SINGLE_REQUEST_MAX_SIZE = DEFAULT_SINGLE_REQUEST_MAX_SIZE;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function problem(text: string): void {
  $('problem').textContent = text;
  $('problem').hidden = text === '';
}

async function main(): Promise<void> {
  const response = await fetch('./config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as PageConfig;
  const endpoint = `${config.brokerUrl}${config.uppyPath ?? '/companion'}`;
  const viaSigner = new URLSearchParams(location.search).get('path') === 'sign';
  const select = $<HTMLSelectElement>('user');
  for (const user of config.users) select.append(new Option(user.id, user.id));

  let uppy: Uppy | undefined;
  let token: string | undefined;

  function start(): void {
    uppy?.destroy();
    uppy = new Uppy({ id: 'hoist', autoProceed: false });
    uppy.use(Dashboard, {
      target: '#dashboard',
      inline: true,
      height: 420,
      proudlyDisplayPoweredByUppy: false,
    });
    if (viaSigner) uppy.use(AwsS3, hoistAwsS3Options({ endpoint, token: () => token ?? '' }));
    // Companion's protocol, answered by the broker. Files up to the broker's single-request size
    // go as one POST form (verified when the broker next looks); larger ones multipart.
    else
      uppy.use(AwsS3, {
        companionEndpoint: config.brokerUrl + (config.uppyPath ?? '/companion'),
        shouldUseMultipart: (file) => (file.size ?? Number.POSITIVE_INFINITY) > SINGLE_REQUEST_MAX_SIZE,
      });
    // For the tests: the page's Uppy, to read its state.
    (window as unknown as { uppy: Uppy }).uppy = uppy;
  }

  async function signIn(id: string): Promise<void> {
    const user = config.users.find((u) => u.id === id);
    if (!user) return;
    const res = await fetch(`${endpoint}/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
    });
    if (!res.ok) return problem(`Signing in failed: HTTP ${res.status}`);
    token = user.token;
    $('who').textContent = user.id;
    $('signin').hidden = true;
    $('whoami').hidden = false;
    problem('');
    start();
  }

  async function signOut(): Promise<void> {
    await fetch(`${endpoint}/session`, { method: 'DELETE' });
    token = undefined;
    uppy?.destroy();
    uppy = undefined;
    $('whoami').hidden = true;
    $('signin').hidden = false;
  }

  $('signin').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(select.value);
  });
  $('signout').addEventListener('click', () => void signOut());
  $('mode').textContent = viaSigner ? 'signRequest (hoist/client/uppy)' : 'companionEndpoint';
}

main().catch((error: unknown) =>
  problem(`The page could not start: ${String(error)}. Is \`hoist dev\` running?`),
);
