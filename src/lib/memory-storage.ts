/** A Storage stand-in for unit tests of code that reads and writes localStorage. */
export function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

/** A page location for code that reads `?model=` style links. */
export const pageAt = (search = '') => ({ href: `http://app.test/chat/${search}`, search });
