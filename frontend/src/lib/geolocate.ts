/**
 * "Use my location" on a phone: one `navigator.geolocation` fix with a timeout, and checks of coordinates
 * typed by hand (the fallback when the browser refuses or has no fix).
 */
export interface Fix {
  lon: number
  lat: number
  /** metres */
  accuracy: number
}

export type LocateProblem = 'unsupported' | 'denied' | 'unavailable' | 'timeout'

export class LocateError extends Error {
  constructor(readonly problem: LocateProblem, message: string) {
    super(message)
    this.name = 'LocateError'
  }
}

type Geo = Pick<Geolocation, 'getCurrentPosition'>

export function locate(geo: Geo | undefined = globalThis.navigator?.geolocation, timeout = 15_000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!geo) {
      reject(new LocateError('unsupported', 'geolocation is not available'))
      return
    }
    geo.getCurrentPosition(
      (position) =>
        resolve({
          lon: round6(position.coords.longitude),
          lat: round6(position.coords.latitude),
          accuracy: Math.round(position.coords.accuracy),
        }),
      (error) => {
        const problem: LocateProblem = error.code === 1 ? 'denied' : error.code === 3 ? 'timeout' : 'unavailable'
        reject(new LocateError(problem, error.message || problem))
      },
      { enableHighAccuracy: true, timeout, maximumAge: 30_000 },
    )
  })
}

export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6
}

/** A coordinate typed by hand: a number within range, or null when empty; 'invalid' otherwise. */
export function parseCoordinate(text: string, kind: 'lon' | 'lat'): number | null | 'invalid' {
  const value = text.trim()
  if (!value) return null
  if (!/^-?\d+(\.\d+)?$/.test(value)) return 'invalid'
  const number = Number(value)
  const limit = kind === 'lon' ? 180 : 90
  return Math.abs(number) <= limit ? round6(number) : 'invalid'
}
