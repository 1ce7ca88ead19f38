/**
 * What a file row shows in each state, as pure data: the bar's value and spoken text, the
 * visible status line, and which buttons are offered. The DOM side lives in file-row.ts.
 */
import type { UploadProgress } from '@hoist/client/core';
import { formatBytes, formatDuration, formatSpeed, percent, progressText } from './format.ts';

export type RowState =
  | 'waiting'
  | 'refused'
  | 'preparing'
  | 'uploading'
  | 'paused'
  | 'completing'
  | 'completed'
  | 'failed';

export interface RowText {
  /** 0..1, for the bar's fill. */
  fraction: number;
  /** Whole percent, for aria-valuenow. */
  valueNow: number;
  /** aria-valuetext: `42% — 12.3 MB/s, 8 s left`. */
  valueText: string;
  /** The status line: `63.0 MB of 157 MB`, `Paused — pick x again to resume`… */
  status: string;
  speed: string;
  eta: string;
}

type Progress = Pick<UploadProgress, 'fraction' | 'bytesPerSecond' | 'etaSeconds'>;

export function rowText(state: RowState, progress: Progress, size: number, name: string): RowText {
  const fraction = state === 'completed' ? 1 : progress.fraction;
  const pct = percent(fraction);
  const sent = `${formatBytes(Math.min(size, fraction * size))} of ${formatBytes(size)}`;
  const sending = state === 'uploading' && progress.bytesPerSecond > 0;
  const [valueText, status] = ((): [string, string] => {
    switch (state) {
      case 'waiting':
        return [`${pct}% — paused, waiting for the file`, `Paused — pick ${name} again to resume`];
      case 'refused':
        return ['Not uploaded', 'Not uploaded'];
      case 'preparing':
        return [`${pct}% — preparing`, 'Preparing…'];
      case 'uploading':
        return [progressText(progress), sent];
      case 'paused':
        return [`${pct}% — paused`, `Paused at ${sent}`];
      case 'completing':
        return [`${pct}% — finishing`, 'Finishing…'];
      case 'completed':
        return ['100% — uploaded', `Uploaded — ${formatBytes(size)}`];
      case 'failed':
        return [`${pct}% — stopped`, `Stopped at ${pct}%`];
    }
  })();
  return {
    fraction,
    valueNow: pct,
    valueText,
    status,
    speed: sending ? formatSpeed(progress.bytesPerSecond) : '',
    eta: sending && progress.etaSeconds !== null ? `${formatDuration(progress.etaSeconds)} left` : '',
  };
}

export interface RowButtons {
  /** The pause/resume toggle: which of the two, or none. */
  toggle: 'pause' | 'resume' | undefined;
  toggleDisabled: boolean;
  retry: boolean;
  pick: boolean;
  cancel: boolean;
  dismiss: boolean;
}

export function rowButtons(state: RowState, retryable: boolean): RowButtons {
  const running =
    state === 'preparing' || state === 'uploading' || state === 'paused' || state === 'completing';
  return {
    toggle: running ? (state === 'paused' ? 'resume' : 'pause') : undefined,
    // Completion cannot be paused: the parts are all there.
    toggleDisabled: state === 'completing',
    retry: state === 'failed' && retryable,
    pick: state === 'waiting',
    cancel:
      state === 'preparing' ||
      state === 'uploading' ||
      state === 'paused' ||
      state === 'failed' ||
      state === 'waiting',
    dismiss: state === 'refused' || state === 'completed',
  };
}
