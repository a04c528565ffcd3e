#!/usr/bin/env node
// `npx llmops` in the workspace (the root package.json's bin): the CLI from its TypeScript sources,
// compiled on the fly by @swc-node/register as `npm start` runs the services, so it needs no build.
// The published package runs the bundle dist/cli.js instead.
const { join } = require('node:path');

process.env.SWC_NODE_PROJECT ??= join(__dirname, '..', '..', '..', 'tsconfig.json');
require('@swc-node/register');
require('../src/cli').main();
