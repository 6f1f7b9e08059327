#!/usr/bin/env node
// The `bulwark` command: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../controller/cli/main.ts');
