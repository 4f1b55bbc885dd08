/// <reference types="vitest/config" />
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/**
 * Swagger UI for /api/docs, served from the binary like the rest of the UI: the files of the
 * swagger-ui-dist package plus our own page and start-up script (no inline script, no CDN).
 */
function swaggerUi(): Plugin {
  return {
    name: 'beacon-swagger-ui',
    apply: 'build',
    generateBundle() {
      const dist = dirname(require.resolve('swagger-ui-dist/package.json'))
      for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
        this.emitFile({ type: 'asset', fileName: `swagger/${file}`, source: readFileSync(join(dist, file)) })
      }
      for (const file of ['index.html', 'init.js']) {
        this.emitFile({ type: 'asset', fileName: `swagger/${file}`, source: readFileSync(join(here, 'swagger', file)) })
      }
    },
  }
}

export default defineConfig({
  plugins: [vue(), swaggerUi()],
  resolve: { alias: { '@': join(here, 'src') } },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1600,
    sourcemap: false,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.spec.ts'],
  },
})
