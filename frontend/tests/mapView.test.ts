import { mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'

// A stand-in for MapLibre (no WebGL here): it records how the map was made and what was done to it.
const made: FakeMap[] = []
class FakeMap {
  controls: { kind: string; position: string }[] = []
  removed = false
  rotationOff = false
  touchZoomRotate = { disableRotation: () => (this.rotationOff = true) }
  constructor(public options: Record<string, unknown>) {
    made.push(this)
  }
  addControl(control: { kind: string }, position: string): void {
    this.controls.push({ kind: control.kind, position })
  }
  remove(): void {
    this.removed = true
  }
  resize(): void {}
}
vi.mock('maplibre-gl', () => ({
  Map: FakeMap,
  NavigationControl: class {
    kind = 'navigation'
  },
  ScaleControl: class {
    kind = 'scale'
  },
}))

const meta = { value: null as { map_style_url: string | null } | null }
vi.mock('@/stores/meta', () => ({
  useMetaStore: () => ({
    get meta() {
      return meta.value
    },
    load: () => Promise.resolve(meta.value),
  }),
}))

const queries: unknown[] = []
vi.mock('@/api/client', () => ({
  api: {
    GET: (_path: string, init: { params: { query: unknown } }) => {
      queries.push(init.params.query)
      return Promise.resolve({ data: { type: 'FeatureCollection', features: [] } })
    },
  },
  unwrap: async (call: Promise<{ data: unknown }>) => (await call).data,
}))

const { CITY_CENTRE, fetchBoundaries, unionBox, useMapView } = await import('@/modules/geo/useMapView')

function host(options: { center?: [number, number] | null; scale?: boolean; disposed?: () => void; created?: (m: unknown) => void }) {
  return defineComponent({
    setup() {
      const container = ref<HTMLDivElement>()
      useMapView(container, {
        center: () => options.center,
        zoom: () => (options.center ? 15 : 9),
        scale: options.scale,
        onCreate: (m) => options.created?.(m),
        onDispose: options.disposed,
      })
      return () => h('div', { ref: container })
    },
  })
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('the small map setup', () => {
  beforeEach(() => {
    made.length = 0
    queries.length = 0
    meta.value = null
  })

  it('opens flat on the city with no basemap unless the server has one', async () => {
    const created = vi.fn()
    const wrapper = mount(host({ created }))
    await settle()
    expect(made).toHaveLength(1)
    const map = made[0]!
    expect(map.options).toMatchObject({ center: CITY_CENTRE, zoom: 9, attributionControl: false, dragRotate: false, pitchWithRotate: false })
    expect((map.options.style as { sources: object }).sources).toEqual({})
    expect(map.rotationOff).toBe(true)
    expect(map.controls).toEqual([{ kind: 'navigation', position: 'top-right' }])
    expect(created).toHaveBeenCalledWith(map)
    wrapper.unmount()
  })

  it('uses the server style, the given view and a scale when asked', async () => {
    meta.value = { map_style_url: '/tiles/style.json' }
    const wrapper = mount(host({ center: [117.1, 32.5], scale: true }))
    await settle()
    const map = made[0]!
    expect(map.options).toMatchObject({ style: '/tiles/style.json', center: [117.1, 32.5], zoom: 15, attributionControl: {} })
    expect(map.controls.map((c) => c.kind)).toEqual(['navigation', 'scale'])
    wrapper.unmount()
  })

  it('cleans up and removes the map on unmount', async () => {
    const disposed = vi.fn()
    const wrapper = mount(host({ disposed }))
    await settle()
    wrapper.unmount()
    expect(disposed).toHaveBeenCalledOnce()
    expect(made[0]!.removed).toBe(true)
  })

  it('makes no map when unmounted before the server facts arrive', async () => {
    const wrapper = mount(host({}))
    wrapper.unmount()
    await settle()
    expect(made).toHaveLength(0)
  })

  it('asks for the boundaries of a level simplified for its closest view, under a parent when given', async () => {
    await fetchBoundaries('street', '341302')
    await fetchBoundaries('district', null)
    expect(queries).toEqual([
      { level: 'street', zoom: 12, parent_code: '341302' },
      { level: 'district', zoom: 10 },
    ])
  })
})

describe('box union', () => {
  it('spans all the boxes and skips the missing ones', () => {
    expect(unionBox([])).toBeNull()
    expect(unionBox([null])).toBeNull()
    expect(
      unionBox([
        [117, 32, 117.5, 32.5],
        null,
        [116.8, 32.2, 117.2, 33],
      ]),
    ).toEqual([116.8, 32, 117.5, 33])
  })
})
