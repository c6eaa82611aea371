import { describe, expect, it } from 'vitest'
import { cellSize, countRadius, covers, houseLayerMode, houseMapRequest, sameRequest } from '@/lib/houseMap'

const VIEW: [number, number, number, number] = [117.46, 32.93, 117.48, 32.945]

describe('house layer requests', () => {
  it('asks for houses from zoom 14 and per-grid counts below', () => {
    expect(houseLayerMode(13.99)).toBe('grids')
    expect(houseLayerMode(14)).toBe('houses')
    expect(houseMapRequest(VIEW, 16.4)).toMatchObject({ mode: 'houses', zoom: 16 })
    // Below 14 the answer does not depend on the zoom: one zoom for the whole band, so one cache key.
    expect(houseMapRequest(VIEW, 9.2).zoom).toBe(13)
    expect(houseMapRequest(VIEW, 12.7).zoom).toBe(13)
  })

  it('pads and snaps the box outwards so it covers the view', () => {
    const r = houseMapRequest(VIEW, 15)
    const [w, s, e, n] = r.box
    expect(w).toBeLessThanOrEqual(VIEW[0])
    expect(s).toBeLessThanOrEqual(VIEW[1])
    expect(e).toBeGreaterThanOrEqual(VIEW[2])
    expect(n).toBeGreaterThanOrEqual(VIEW[3])
    expect(r.bbox).toBe(r.box.join(','))
    expect(r.bbox.split(',').map(Number)).toHaveLength(4)
  })

  it('needs no new request for a small pan or a zoom in within the loaded box', () => {
    const last = { ...houseMapRequest(VIEW, 15.2), truncated: false }
    const nudge: [number, number, number, number] = [VIEW[0] + 0.002, VIEW[1], VIEW[2] + 0.002, VIEW[3]]
    const far: [number, number, number, number] = [VIEW[0] + 0.2, VIEW[1], VIEW[2] + 0.2, VIEW[3]]
    expect(covers(last, nudge, 15.6)).toBe(true)
    expect(covers(last, VIEW, 17)).toBe(true)
    expect(covers(last, far, 15.2)).toBe(false)
    expect(covers(last, VIEW, 13.5)).toBe(false) // counts per grid now
    expect(covers({ ...last, truncated: true }, VIEW, 17)).toBe(false) // closer may bring the rest
    expect(covers(null, VIEW, 15)).toBe(false)
  })

  it('compares requests by box and zoom', () => {
    const a = houseMapRequest(VIEW, 15.2)
    expect(sameRequest(a, houseMapRequest(VIEW, 15.7))).toBe(true)
    expect(sameRequest(a, houseMapRequest(VIEW, 16.1))).toBe(false)
    expect(sameRequest(null, a)).toBe(false)
  })

  it('stays within the world', () => {
    const r = houseMapRequest([-179.9, -89.9, 179.9, 89.9], 3)
    expect(r.box).toEqual([-180, -90, 180, 90])
  })

  it('halves the cell with each zoom', () => {
    expect(cellSize(10) / cellSize(11)).toBe(2)
  })

  it('sizes grid circles by the square root of the count', () => {
    expect(countRadius(0, 100)).toBe(6)
    expect(countRadius(100, 100)).toBe(30)
    expect(countRadius(25, 100)).toBe(18)
    expect(countRadius(500, 100)).toBe(30)
  })
})
