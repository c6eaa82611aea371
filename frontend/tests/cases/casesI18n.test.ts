import { describe, expect, it } from 'vitest'
import casesEn from '@/i18n/cases.en'
import casesZh from '@/i18n/cases.zh-CN'
import en from '@/i18n/en'
import zhCN from '@/i18n/zh-CN'
import { LADDER, PRIORITIES, STATUSES } from '@/modules/cases/caseModel'

// The transition table's actions (src/civicgrid/cases/flows.py) and the timeline's own entries.
const ACTIONS = [
  'accept', 'reject', 'start', 'dispatch', 'sign', 'send_back', 'co_report', 'handle', 'start_verification', 'pass', 'return',
  'escalate', 'hand_down', 'reopen', 'supervise', 'request_extension', 'decide_extension', 'comment', 'rate', 'report', 'card',
]

describe('case messages', () => {
  it('are registered under `cases` and name the menu entries', () => {
    expect(zhCN.cases).toBe(casesZh)
    expect(en.cases).toBe(casesEn)
    expect(zhCN.menu.cases).toBe('事件办理')
    expect(zhCN.menu.supervision).toBe('督办看板')
  })

  it('label every status, action and priority', () => {
    for (const s of STATUSES) expect(casesZh.status[s], s).toBeTruthy()
    for (const a of ACTIONS) expect((casesZh.action as Record<string, string>)[a], a).toBeTruthy()
    for (const p of PRIORITIES) expect(casesZh.priority[p], p).toBeTruthy()
    for (const l of LADDER) expect(zhCN.level[l], l).toBeTruthy()
  })

  it('use the flows’ Chinese labels for the steps', () => {
    expect(casesZh.action).toMatchObject({ accept: '受理', dispatch: '派遣', sign: '签收', handle: '办结', pass: '核查通过', escalate: '上报', hand_down: '交办', supervise: '督办' })
  })
})
