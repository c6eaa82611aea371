import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'
import type { Meta } from '@/api/types'

/** Public server facts (`GET /api/v1/meta`): version, optional map style, display time zone, demo flag. */
export const useMetaStore = defineStore('meta', () => {
  const meta = ref<Meta | null>(null)
  let loading: Promise<Meta | null> | null = null

  function load(): Promise<Meta | null> {
    loading ??= unwrap(api.GET('/api/v1/meta'))
      .then((value) => {
        meta.value = value
        return value
      })
      .catch(() => {
        loading = null
        return null
      })
    return loading
  }

  return { meta, load }
})
