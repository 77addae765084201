/** Light, dark, or whatever the system prefers; the choice is kept in localStorage. */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const THEME_KEY = 'phi-chat.theme';

export function resolveTheme(storage: Pick<Storage, 'getItem'>): Theme {
  const saved = storage.getItem(THEME_KEY);
  return THEMES.find((theme) => theme === saved) ?? 'system';
}

export function saveTheme(theme: Theme, storage: Pick<Storage, 'setItem' | 'removeItem'>) {
  if (theme === 'system') storage.removeItem(THEME_KEY);
  else storage.setItem(THEME_KEY, theme);
}

/** `data-theme` on the root element forces a scheme; without it, app.css follows the system. */
export function applyTheme(theme: Theme, root: HTMLElement) {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export class ThemeSetting {
  #current = $state<Theme>('system');

  constructor(
    private storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private root: HTMLElement,
  ) {
    this.#current = resolveTheme(storage);
    applyTheme(this.#current, root);
  }

  get current() {
    return this.#current;
  }

  set current(theme: Theme) {
    this.#current = theme;
    saveTheme(theme, this.storage);
    applyTheme(theme, this.root);
  }
}
