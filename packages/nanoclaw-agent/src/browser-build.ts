/**
 * Run once at image build (images/nanoclaw-agent/Dockerfile), when the image has Chromium: writes
 * Playwright MCP's config and records the answers lazy-mcp.ts gives in its place (browser.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROWSER_CONFIG, BROWSER_DIR, playwrightCommand } from './browser.ts';
import { recordAnswers } from './lazy-mcp.ts';
import { IMAGE_MODULES } from './mcp-servers.ts';

mkdirSync(BROWSER_DIR, { recursive: true });
writeFileSync(join(BROWSER_DIR, 'config.json'), `${JSON.stringify(BROWSER_CONFIG, null, 2)}\n`);
await recordAnswers(join(BROWSER_DIR, 'answers.json'), playwrightCommand(IMAGE_MODULES));
