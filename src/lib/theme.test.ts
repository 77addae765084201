// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ThemeSetting, resolveTheme } from './theme.svelte';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}

describe('theme', () => {
  it('follows the system until a theme is chosen', () => {
    const root = document.createElement('html');
    const theme = new ThemeSetting(memoryStorage(), root);
    expect(theme.current).toBe('system');
    expect(root.dataset.theme).toBeUndefined();
  });

  it('applies and remembers a choice, and forgets it when the system is chosen again', () => {
    const storage = memoryStorage();
    const root = document.createElement('html');
    const theme = new ThemeSetting(storage, root);
    theme.current = 'dark';
    expect(root.dataset.theme).toBe('dark');
    expect(resolveTheme(storage)).toBe('dark');

    const later = document.createElement('html');
    expect(new ThemeSetting(storage, later).current).toBe('dark');
    expect(later.dataset.theme).toBe('dark');

    theme.current = 'system';
    expect(root.dataset.theme).toBeUndefined();
    expect(storage.data.size).toBe(0);
  });

  it('ignores a saved value it does not know', () => {
    expect(resolveTheme(memoryStorage({ 'phi-chat.theme': 'sepia' }))).toBe('system');
  });
});
