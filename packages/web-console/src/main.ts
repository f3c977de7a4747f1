import { createApi } from './api.ts';
import { h, toast } from './dom.ts';
import { parseRoute, type Route } from './route.ts';
import { session } from './session.ts';
import './styles.css';
import { compareView } from './views/compare.ts';
import { datasetsView, datasetView } from './views/datasets.ts';
import { jobView } from './views/job.ts';
import { jobsView } from './views/jobs.ts';
import { signInView } from './views/signIn.ts';
import { trainView } from './views/train.ts';
import type { View } from './views/view.ts';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let leaving: AbortController | undefined;

function viewFor(route: Route): View {
  switch (route.name) {
    case 'datasets':
      return datasetsView;
    case 'dataset':
      return datasetView(route.id);
    case 'train':
      return trainView(route.datasetId);
    case 'job':
      return jobView(route.id);
    case 'compare':
      return compareView(route.jobIds);
    default:
      return jobsView;
  }
}

/** Renders the page the hash names; what the previous page left running (streams, polls) stops first. */
async function render(moveFocus = false): Promise<void> {
  leaving?.abort();
  const here = new AbortController();
  leaving = here;
  const key = session.key();
  nav.hidden = !key;
  if (!key) {
    signInView(main, () => void render());
    return;
  }
  const route = parseRoute(location.hash);
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${route.section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await viewFor(route)({ api: createApi(key), main, signal: here.signal });
    // After a navigation, reading and tabbing start at the new page, as after a page load.
    if (moveFocus && !here.signal.aborted) main.focus({ preventScroll: true });
  } catch (err) {
    if (here.signal.aborted) return;
    if ((err as { status?: number }).status === 401) {
      session.signOut();
      toast('Your API key was refused: sign in again.');
      return void render();
    }
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, (err as Error).message));
  }
}

document.getElementById('sign-out')?.addEventListener('click', () => {
  session.signOut();
  location.hash = '';
  void render();
});
window.addEventListener('hashchange', () => void render(true));
void render();
