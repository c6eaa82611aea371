/**
 * What the big screen keeps ticking: the clock (each second), the live stream's state (read with it) and the
 * type unit `--u`, which follows the window's size.
 */
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { live } from '@/modules/notifications/useLive'
import { screenUnit } from './useChart'

export function useWallClock() {
  const clock = ref(new Date())
  const liveState = ref(live.state)
  const unit = ref(screenUnit(window.innerWidth, window.innerHeight))
  const timer = setInterval(() => {
    clock.value = new Date()
    liveState.value = live.state
  }, 1000)
  function onResize(): void {
    unit.value = screenUnit(window.innerWidth, window.innerHeight)
  }
  onMounted(() => window.addEventListener('resize', onResize))
  onBeforeUnmount(() => {
    clearInterval(timer)
    window.removeEventListener('resize', onResize)
  })
  return { clock, liveState, unit }
}
