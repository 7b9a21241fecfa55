/**
 * The dashboard's build: React, hashed assets under assets/ (the daemon caches them for a year), and
 * .br/.gz copies of each. `vite` (dev) forwards the API to a daemon on BOILERHOUSE_URL.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './scripts/precompress.ts';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The daemon serves the build itself: no need to send a source map.
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/metrics'].map((path) => [
        path,
        { target: process.env.BOILERHOUSE_URL ?? 'http://127.0.0.1:7070', changeOrigin: true },
      ]),
    ),
  },
});
