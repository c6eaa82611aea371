/** The map's own layers: one GeoJSON source per level, filled by population density, plus a highlight. */
import type { LayerSpecification, StyleSpecification } from 'maplibre-gl'
import type { BoundaryLevel } from '@/api/types'
import { stepExpression } from '@/lib/classes'
import { MAP_LEVELS } from '@/lib/levels'

export const HIGHLIGHT_SOURCE = 'cg-highlight'

export function sourceId(level: BoundaryLevel): string {
  return `cg-${level}`
}
export function fillLayerId(level: BoundaryLevel): string {
  return `cg-${level}-fill`
}
export function lineLayerId(level: BoundaryLevel): string {
  return `cg-${level}-line`
}

/** A style with no basemap: a plain background, no glyphs, no sprites, no network. */
export function offlineStyle(): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#e9eef3' } }],
  }
}

const LINE_COLOUR: Record<BoundaryLevel, string> = {
  district: '#16325c',
  street: '#2b4a7a',
  community: '#3d5f8f',
  grid: '#5b7aa6',
}

export function boundaryLayers(level: BoundaryLevel): LayerSpecification[] {
  // Recoloured with quantile classes once features are loaded (see MapPage).
  const colour = stepExpression('density', [0])
  return [
    {
      id: fillLayerId(level),
      type: 'fill',
      source: sourceId(level),
      layout: { visibility: 'none' },
      paint: {
        'fill-color': colour as never,
        'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.85, 0.65],
      },
    },
    {
      id: lineLayerId(level),
      type: 'line',
      source: sourceId(level),
      layout: { visibility: 'none', 'line-join': 'round' },
      paint: { 'line-color': LINE_COLOUR[level], 'line-width': 1, 'line-opacity': 0.9 },
    },
  ]
}

export function highlightLayers(): LayerSpecification[] {
  return [
    {
      id: 'cg-highlight-fill',
      type: 'fill',
      source: HIGHLIGHT_SOURCE,
      paint: { 'fill-color': '#f59e0b', 'fill-opacity': 0.18 },
    },
    {
      id: 'cg-highlight-line',
      type: 'line',
      source: HIGHLIGHT_SOURCE,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#d9480f', 'line-width': 3 },
    },
  ]
}

/** Which layers are shown when drawing `current`: its fill and outline, and the parent level's outline. */
export function layerVisibility(current: BoundaryLevel): Record<string, 'visible' | 'none'> {
  const result: Record<string, 'visible' | 'none'> = {}
  const index = MAP_LEVELS.indexOf(current)
  MAP_LEVELS.forEach((level, i) => {
    result[fillLayerId(level)] = level === current ? 'visible' : 'none'
    result[lineLayerId(level)] = level === current || i === index - 1 ? 'visible' : 'none'
  })
  return result
}

export function lineWidthFor(level: BoundaryLevel, current: BoundaryLevel): number {
  return level === current ? 1 : 2.5
}
