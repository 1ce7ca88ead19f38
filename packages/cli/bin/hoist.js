#!/usr/bin/env node
// Thin launcher for the built CLI (npm run build); the repository runs src/main.ts directly.
import '../dist/main.js';
