/**
 * The browser every group's agent gets, `mcp__browser__*`: Playwright's MCP server (@playwright/mcp) in
 * the container, driving Debian's Chromium from the image, headless. It opens pages, reads them (an
 * accessibility snapshot), clicks, types, fills forms and takes screenshots; a screenshot given a
 * `filename` is saved under the group's folder, so it can be sent to the chat and stays with the group;
 * one without is saved in /tmp, and send_file copies it into the group's folder to send it.
 *
 * Inside the container's limits: Chromium's own sandbox needs namespaces the container does not grant
 * (no capabilities, no new privileges), so it runs without it, the container being the boundary; shared
 * memory goes to /tmp, not the small /dev/shm; the profile is kept in memory (`isolated`) and every other
 * file Chromium or Playwright writes goes under /tmp, as the root filesystem may be read-only. Nothing is
 * fetched that a page did not ask for: no component updates, no background networking, no first-run calls.
 */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { McpHttpServerConfig } from '@anthropic-ai/claude-agent-sdk';
import { BROWSER_OUTPUT_DIR } from './browser-output.ts';
import { startLazyServer } from './lazy-mcp.ts';

/** Debian's package; an image built without it (`BROWSER=none`) offers no browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Written at image build (browser-build.ts): Playwright MCP's config, and the answers lazy-mcp.ts gives for it. */
export const BROWSER_DIR = join(import.meta.dirname, '..', 'browser');
/** Where Chromium and Playwright write: the container's /tmp (its root may be read-only). */
const SCRATCH = '/tmp/nanoclaw-browser';

const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--no-pings',
  '--metrics-recording-only',
];

/** Playwright MCP's config file (its `--config`): https://github.com/microsoft/playwright-mcp#configuration */
export const BROWSER_CONFIG = {
  browser: {
    browserName: 'chromium',
    isolated: true,
    launchOptions: { executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS },
    contextOptions: { viewport: { width: 1280, height: 800 } },
  },
  // Snapshots, downloads and screenshots saved without a name (send_file copies one it is given into the
  // group's folder: browser-output.ts); named ones go to the working directory (the group's).
  outputDir: BROWSER_OUTPUT_DIR,
  imageResponses: 'allow',
};

/** The command that runs Playwright's MCP server with that config. */
export function playwrightCommand(modulesDir: string): string[] {
  return [
    process.execPath,
    join(modulesDir, '@playwright', 'mcp', 'cli.js'),
    '--config',
    join(BROWSER_DIR, 'config.json'),
  ];
}

const present = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The browser's MCP server for this run, or undefined when the image has no Chromium: served from this
 * process by lazy-mcp.ts, which starts Playwright's server at the first tool call.
 */
export async function browserServer(
  modulesDir: string,
  groupDir: string,
  log: (message: string) => void,
): Promise<{ config: McpHttpServerConfig; close(): void } | undefined> {
  const answersPath = join(BROWSER_DIR, 'answers.json');
  if (!(await present(CHROMIUM)) || !(await present(answersPath))) return undefined;
  await mkdir(SCRATCH, { recursive: true });
  const server = await startLazyServer({
    answersPath,
    command: playwrightCommand(modulesDir),
    env: { ...process.env, XDG_CACHE_HOME: join(SCRATCH, 'cache'), XDG_CONFIG_HOME: join(SCRATCH, 'config') },
    cwd: groupDir,
    log,
  });
  return { config: { type: 'http', url: server.url }, close: server.close };
}

/** What the model is told about the browser, once the server is there. */
export function browserPrompt(groupDir: string): string {
  return `A headless browser is yours (mcp__browser__* tools): open pages, read them with browser_snapshot, click, type and fill forms by the refs a snapshot gives. Save a screenshot with browser_take_screenshot and a filename such as screenshots/page.png: it lands in ${groupDir}, where you can send it to the chat with send_file; one saved without a filename can be sent by the path the tool gave.`;
}
