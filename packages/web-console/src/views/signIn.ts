import { VtpApiError } from '@vtp/client';
import { createApi } from '../api.ts';
import { clear, h } from '../dom.ts';
import { session } from '../session.ts';

export function signInView(main: HTMLElement, signedIn: () => void): void {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'vtp_…',
    'aria-describedby': 'api-key-help',
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'api-key-help', class: 'muted' },
      'Kept in this tab only (session storage) and sent in the Authorization header; closing the tab signs you out.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    error.textContent = '';
    try {
      await createApi(key).whoAmI();
      session.signIn(key);
      signedIn();
    } catch (err) {
      error.textContent =
        err instanceof VtpApiError && err.status === 401
          ? 'That API key is not valid.'
          : (err as Error).message;
      input.focus();
    }
  });
  clear(main, form);
  input.focus();
}
