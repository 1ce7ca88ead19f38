#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript run by Node's type stripping (Node >= 24).
import '../src/cli/main.ts';
