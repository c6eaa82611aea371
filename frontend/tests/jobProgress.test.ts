import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import type { Job } from '@/api/types'
import { i18n } from '@/i18n'

// The job as the server reports it on each poll, in turn (the last one repeats).
const answers: Partial<Job>[] = []
const polled: number[] = []
vi.mock('@/api/client', () => ({
  api: {
    GET: (_path: string, init: { params: { path: { job_id: number } } }) => {
      polled.push(init.params.path.job_id)
      const next = answers.length > 1 ? answers.shift() : answers[0]
      return Promise.resolve({ data: { id: init.params.path.job_id, message: null, error_report_url: null, result: null, ...next } })
    },
  },
  unwrap: async (call: Promise<{ data: unknown }>) => (await call).data,
}))

const { default: JobProgress } = await import('@/modules/registry/imports/JobProgress.vue')

const TESTIDS = { root: 'job', status: 'job-status', progress: 'job-progress', result: 'job-result' }
// Element Plus's own rendering is not under test: its props are.
const stubs = {
  ElProgress: defineComponent({ props: ['status', 'percentage', 'indeterminate'], setup: () => () => h('div') }),
  ElResult: defineComponent({ props: ['icon', 'title', 'subTitle'], setup: (_, { slots }) => () => h('div', slots.extra?.()) }),
  ElAlert: true,
}

function mountJob(onFinished = vi.fn()) {
  return mount(JobProgress, {
    props: { jobId: 7, failedRows: (job: Job) => job.failed_rows, texts: 'registry.imports', reportPrefix: 'import', testids: TESTIDS, onFinished },
    slots: {
      progress: ({ job }: { job: Job }) => h('span', { 'data-testid': 'under-bar' }, String(job.processed)),
      result: () => h('span', { 'data-testid': 'in-result' }),
      default: () => h('span', { 'data-testid': 'after-result' }),
    },
    global: { plugins: [i18n], stubs },
  })
}

describe('an import job in progress', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    answers.length = 0
    polled.length = 0
    i18n.global.locale.value = 'en'
  })
  afterEach(() => vi.useRealTimers())

  it('polls each second until the job ends, then says so once', async () => {
    answers.push(
      { status: 'running', processed: 40, total: 100, failed_rows: 0 },
      { status: 'succeeded', processed: 100, total: 100, failed_rows: 0 },
    )
    const onFinished = vi.fn()
    const wrapper = mountJob(onFinished)
    await flushPromises()
    expect(wrapper.get('[data-testid="job"]').attributes('data-status')).toBe('running')
    expect(wrapper.get('[data-testid="under-bar"]').text()).toBe('40')
    expect(wrapper.findComponent(stubs.ElProgress).props()).toMatchObject({ percentage: 40, status: undefined })
    expect(wrapper.find('[data-testid="job-result"]').exists()).toBe(false)

    await vi.advanceTimersByTimeAsync(1000)
    expect(onFinished).toHaveBeenCalledWith('succeeded')
    expect(wrapper.findComponent(stubs.ElProgress).props('status')).toBe('success')
    expect(wrapper.findComponent(stubs.ElResult).props()).toMatchObject({ icon: 'success', subTitle: '' })
    expect(wrapper.find('[data-testid="in-result"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="after-result"]').exists()).toBe(true)

    await vi.advanceTimersByTimeAsync(5000)
    expect(polled).toEqual([7, 7])
    wrapper.unmount()
  })

  it('shows refused rows as a warning and a failed job as an error with its message', async () => {
    answers.push({ status: 'succeeded', processed: 10, total: 10, failed_rows: 3 })
    const warned = mountJob()
    await flushPromises()
    expect(warned.findComponent(stubs.ElProgress).props('status')).toBe('warning')
    expect(warned.findComponent(stubs.ElResult).props()).toMatchObject({ icon: 'warning', title: i18n.global.t('registry.imports.doneWithProblems', { n: '3' }) })
    warned.unmount()

    answers.length = 0
    answers.push({ status: 'failed', processed: 0, total: null, failed_rows: 0, message: 'not a CSV file' })
    const failed = mountJob()
    await flushPromises()
    expect(failed.findComponent(stubs.ElProgress).props('status')).toBe('exception')
    expect(failed.findComponent(stubs.ElResult).props()).toMatchObject({ icon: 'error', title: i18n.global.t('registry.imports.failedTitle'), subTitle: 'not a CSV file' })
    failed.unmount()
  })

  it('stops polling when it is closed', async () => {
    answers.push({ status: 'running', processed: 1, total: null, failed_rows: 0 })
    const wrapper = mountJob()
    await flushPromises()
    wrapper.unmount()
    await vi.advanceTimersByTimeAsync(5000)
    expect(polled).toEqual([7])
  })
})
