import { describe, expect, it } from 'vitest'
import { POSITION_FRESH_MS, positionFeatures, readPosition, removePosition, upsertPosition, visiblePositions } from '@/modules/command/positions'

const row = {
  user_id: 5,
  display_name: '张网格',
  lon: 117.3,
  lat: 32.9,
  accuracy_m: 12,
  grid_code: '340302001002003',
  shared_at: '2024-05-01T10:00:00+08:00',
  on_duty_until: '2024-05-01T18:00:00+08:00',
}
const at = Date.parse(row.shared_at)

describe('worker positions', () => {
  it('are read from rows and events', () => {
    expect(readPosition(row)).toEqual({ userId: 5, name: '张网格', lon: 117.3, lat: 32.9, gridCode: '340302001002003', sharedAt: at })
    expect(readPosition({ ...row, lon: null })).toBeNull()
    expect(readPosition({ ...row, shared_at: 'yesterday' })).toBeNull()
    expect(readPosition({ ...row, user_id: '5' })).toBeNull()
    expect(readPosition({ ...row, display_name: 3, grid_code: undefined })).toMatchObject({ name: '', gridCode: null })
  })

  it('keep one point per worker, the newest', () => {
    const first = readPosition(row)!
    const moved = { ...first, lon: 117.31, sharedAt: at + 60_000 }
    let positions = upsertPosition([], first)
    positions = upsertPosition(positions, moved)
    expect(positions).toEqual([moved])
    expect(upsertPosition(positions, first)).toEqual([moved])
    expect(removePosition(positions, 5)).toEqual([])
    expect(removePosition(positions, 6)).toEqual([moved])
  })

  it('show only fresh points inside the area', () => {
    const p = readPosition(row)!
    const district = { code: '340302', name: '', level: 'district' as const }
    expect(visiblePositions([p], at + POSITION_FRESH_MS, district)).toEqual([p])
    expect(visiblePositions([p], at + POSITION_FRESH_MS + 1, district)).toEqual([])
    expect(visiblePositions([p], at, { code: '340303', name: '', level: 'district' })).toEqual([])
    expect(positionFeatures([p]).features[0]?.properties).toEqual({ user_id: 5, name: '张网格' })
  })
})
