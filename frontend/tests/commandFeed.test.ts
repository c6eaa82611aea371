import { describe, expect, it } from 'vitest'
import {
  casualtyTone,
  incidentItem,
  incidentKey,
  warningItem,
  whenLabel,
  caseEventItem,
  caseEventTouches,
  cardTone,
  feedInArea,
  FEED_LIMIT,
  mergeFeed,
  severityRank,
  severityTone,
  time,
  type FeedItem,
} from '@/modules/command/feed'

function item(key: string, at: number, areaCode: string | null = '340302001002003'): FeedItem {
  const [kind, id] = key.split(':') as [FeedItem['kind'], string]
  return { key, kind, id: Number(id), at, title: key, detail: '', tone: 'info', areaCode, lon: 117.3, lat: 32.9 }
}

describe('merging the feed', () => {
  it('keeps one item per key, the incoming one, newest first', () => {
    const merged = mergeFeed([item('case:1', 10), item('case:2', 30)], [{ ...item('case:1', 20), title: 'read' }, item('warning:1', 25)])
    expect(merged.map((i) => i.key)).toEqual(['case:2', 'warning:1', 'case:1'])
    expect(merged[2]?.title).toBe('read')
  })

  it('cuts to the limit, dropping the oldest', () => {
    const many = Array.from({ length: FEED_LIMIT + 10 }, (_, i) => item(`case:${i}`, i))
    const merged = mergeFeed([], many)
    expect(merged).toHaveLength(FEED_LIMIT)
    expect(merged[0]?.key).toBe(`case:${FEED_LIMIT + 9}`)
    expect(merged.at(-1)?.key).toBe('case:10')
    expect(mergeFeed([], many, 3).map((i) => i.key)).toEqual(['case:69', 'case:68', 'case:67'])
  })

  it('orders equal times by key so the list does not jump', () => {
    expect(mergeFeed([], [item('case:2', 5), item('case:1', 5)]).map((i) => i.key)).toEqual(['case:1', 'case:2'])
  })

  it('filters by area', () => {
    const items = [item('case:1', 1, '340302001002003'), item('case:2', 2, '340303001001001'), item('case:3', 3, null)]
    expect(feedInArea(items, { code: '340302', name: '', level: 'district' }).map((i) => i.key)).toEqual(['case:1'])
    expect(feedInArea(items, undefined)).toHaveLength(3)
  })
})

describe('case events', () => {
  const names = (code: string) => (code === '0101' ? '邻里纠纷' : code)
  const payload = { id: 7, code: 'SJ-1', status: 'reported', action: 'report', category_code: '0101', lon: 117.3, lat: 32.9, grid_code: '340302001002003', card: null }

  it('turns a new report into an item', () => {
    expect(caseEventItem(payload, 1000, names)).toEqual({
      key: 'case:7',
      kind: 'case',
      id: 7,
      at: 1000,
      title: '邻里纠纷',
      detail: 'SJ-1',
      tone: 'info',
      areaCode: '340302001002003',
      lon: 117.3,
      lat: 32.9,
    })
  })

  it('ignores other actions and malformed payloads', () => {
    expect(caseEventItem({ ...payload, action: 'dispatch' }, 1, names)).toBeNull()
    expect(caseEventItem({ ...payload, id: '7' }, 1, names)).toBeNull()
    expect(caseEventItem({ ...payload, code: '' }, 1, names)).toBeNull()
    expect(caseEventItem({ action: 'report', id: 1, code: 'X', lon: 'a' }, 1, names)).toMatchObject({ title: 'X', lon: null, areaCode: null })
  })

  it('says whether an event touches the area shown', () => {
    expect(caseEventTouches(payload, { code: '340302', name: '', level: 'district' })).toBe(true)
    expect(caseEventTouches(payload, { code: '340303', name: '', level: 'district' })).toBe(false)
    expect(caseEventTouches({ action: 'card', resync: true }, { code: '340303', name: '', level: 'district' })).toBe(true)
  })
})

describe('tones', () => {
  it('colours cards and severities', () => {
    expect(cardTone('red')).toBe('danger')
    expect(cardTone('yellow')).toBe('warning')
    expect(cardTone(null)).toBe('info')
    expect(severityTone('HIGH')).toBe('danger')
    expect(severityTone('warning')).toBe('warning')
    // the warnings' own scale: notice < serious < interview < fatal
    expect(['notice', 'serious', 'interview', 'fatal'].map(severityTone)).toEqual(['notice', 'warning', 'danger', 'danger'])
    expect(severityRank('fatal')).toBeLessThan(severityRank('serious'))
    expect(severityTone('whatever')).toBe('notice')
    expect(severityTone(undefined)).toBe('notice')
    expect(severityRank('critical')).toBeLessThan(severityRank('notice'))
  })

  it('reads times', () => {
    expect(time('2024-05-01T02:00:00+08:00')).toBe(Date.UTC(2024, 3, 30, 18))
    expect(time('nonsense')).toBeNull()
    expect(time(null)).toBeNull()
  })
})

describe('police calls', () => {
  const names = { category: (c: string) => (c === '0101' ? '盗窃' : c), source: (s: string) => `${s}接警` }
  const event = {
    source: '110',
    category_code: '0101',
    occurred_at: '2024-05-01T02:00:00+00:00',
    time_precision: 'second',
    division_code: '340302001002003',
    lon: 117.3,
    lat: 32.9,
  }

  it('are the same item from the stream and from the API', () => {
    const fromEvent = incidentItem(event, names)
    const fromApi = incidentItem(
      { ...event, id: 9, occurred_at: '2024-05-01T10:00:00+08:00', category_name: '盗窃案', grid_code: '340302001002003', address: '某路', deaths: 0, injuries: 1 },
      names,
    )
    expect(fromEvent?.key).toBe(incidentKey('110', Date.UTC(2024, 4, 1, 2), '340302001002003', '0101'))
    expect(fromApi?.key).toBe(fromEvent?.key)
    expect(fromEvent).toMatchObject({ kind: 'incident', title: '盗窃', detail: '110接警', tone: 'info', areaCode: '340302001002003', lon: 117.3 })
    expect(fromApi).toMatchObject({ id: 9, title: '盗窃案', detail: '110接警 · 某路', tone: 'warning' })
  })

  it('skip bulk events and malformed ones', () => {
    expect(incidentItem({ count: 500, sources: ['110'], resync: true }, names)).toBeNull()
    expect(incidentItem({ ...event, occurred_at: 'soon' }, names)).toBeNull()
    expect(incidentItem({ ...event, division_code: null }, names)).toBeNull()
  })

  it('stand out with casualties', () => {
    expect(casualtyTone(1, 0)).toBe('danger')
    expect(casualtyTone(0, 2)).toBe('warning')
    expect(casualtyTone(undefined, undefined)).toBe('info')
  })
})

describe('warnings', () => {
  const row = { id: 4, title: '龙子湖区盗窃警情突增', area_code: '340302', area_name: '龙子湖区', severity: 'serious', created_at: '2024-05-01T10:00:00+08:00' }

  it('become items from rows and from new-warning events', () => {
    expect(warningItem(row, 0)).toEqual({
      key: 'warning:4',
      kind: 'warning',
      id: 4,
      at: Date.UTC(2024, 4, 1, 2),
      title: row.title,
      detail: '龙子湖区',
      tone: 'warning',
      areaCode: '340302',
      lon: null,
      lat: null,
    })
    const event = { id: 5, kind: 'surge', area_code: '340302001', severity: 'fatal', status: 'open', title: 'X', action: 'created' }
    expect(warningItem(event, 77, '东风街道')).toMatchObject({ at: 77, detail: '东风街道', tone: 'danger' })
    expect(warningItem({ ...event }, 77)).toMatchObject({ detail: '340302001' })
  })

  it('ignore updates of known warnings and malformed ones', () => {
    expect(warningItem({ ...row, action: 'acknowledge' }, 0)).toBeNull()
    expect(warningItem({ ...row, id: null }, 0)).toBeNull()
    expect(warningItem({ ...row, title: '' }, 0)).toBeNull()
  })
})

describe('feed times', () => {
  it('show the time today and the day before', () => {
    const now = Date.parse('2024-05-01T12:00:00+08:00')
    expect(whenLabel(Date.parse('2024-05-01T00:00:05+08:00'), now)).toBe('00:00:05')
    expect(whenLabel(Date.parse('2024-04-30T23:59:59+08:00'), now)).toBe('04-30 23:59')
  })
})
