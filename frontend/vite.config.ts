/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { vantEmbeddedIconFont } from './build/vantIconFont.ts'

// The API server `npm run dev` talks to (override with CIVICGRID_API=http://host:port).
const api = process.env.CIVICGRID_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/',
  plugins: [vue(), vantEmbeddedIconFont()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/healthz': { target: api, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1100,
    rolldownOptions: {
      output: {
        // Large libraries get their own long-cached chunks; pages are split per route by dynamic import.
        codeSplitting: {
          groups: [
            { name: 'maplibre', test: /[\\/]node_modules[\\/]maplibre-gl[\\/]/, priority: 30 },
            { name: 'echarts', test: /[\\/]node_modules[\\/](echarts|zrender)[\\/]/, priority: 30 },
            // A group also takes the dependencies of its modules, first come first served: Vue must come before
            // the UI libraries, or Vue itself lands in the element-plus chunk and every page (the phone pages
            // too) downloads Element Plus to get Vue.
            {
              name: 'vue',
              test: /[\\/]node_modules[\\/](vue|@vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/,
              priority: 25,
            },
            // Element Plus: the desktop pages only (layout/DesktopRoot.vue and the pages under it).
            {
              name: 'element-plus',
              test: /[\\/]node_modules[\\/](element-plus|@element-plus|@vueuse|@floating-ui|@ctrl|async-validator|dayjs|lodash-es|lodash-unified|memoize-one|normalize-wheel-es)[\\/]/,
              priority: 20,
            },
            // Vant is imported by the mobile routes only: a lazy chunk of its own, never in the desktop bundle.
            { name: 'vant', test: /[\\/]node_modules[\\/](vant|@vant)[\\/]/, priority: 5 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
  },
})
