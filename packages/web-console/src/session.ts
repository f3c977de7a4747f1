/**
 * The API key lives in sessionStorage only: gone when the tab closes, never in localStorage, a cookie or a URL.
 */
const KEY = 'vtp.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (apiKey: string): void => sessionStorage.setItem(KEY, apiKey),
  signOut: (): void => sessionStorage.removeItem(KEY),
};
