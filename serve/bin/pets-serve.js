#!/usr/bin/env node
// Committed entry point, so npm can link the command before TypeScript has built dist/.
import '../dist/src/cli.js';
