#!/usr/bin/env node
// Thin launcher for the built CLI (npm run build); the repository runs src/main.ts directly.
// The warning filter goes first: built-in modules such as node:sqlite load (and warn) when the
// CLI's module graph is linked, before any of its code runs.
import '../dist/quiet-warnings.js';

await import('../dist/main.js');
