/** Popup contents of the house layer, built as DOM (no HTML strings: addresses are user data). */
export interface HousePopupText {
  title: string
  lines: string[]
  link?: { text: string; onClick: () => void }
}

export function popupElement(content: HousePopupText): HTMLElement {
  const root = document.createElement('div')
  root.className = 'cg-house-popup'
  root.dataset.testid = 'house-popup'
  const title = document.createElement('div')
  title.className = 'cg-house-popup__title'
  title.textContent = content.title
  root.append(title)
  for (const line of content.lines) {
    const row = document.createElement('div')
    row.textContent = line
    root.append(row)
  }
  if (content.link) {
    const link = document.createElement('a')
    link.href = '#'
    link.textContent = content.link.text
    link.dataset.testid = 'house-popup-link'
    const go = content.link.onClick
    link.addEventListener('click', (event) => {
      event.preventDefault()
      go()
    })
    root.append(link)
  }
  return root
}
