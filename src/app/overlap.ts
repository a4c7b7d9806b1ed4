/**
 * What else measured while a measurement ran. The page prevents two measurements at once (measure-lock.ts), but
 * not everywhere: Web Locks exist only in secure contexts, so a phone opening the lab over plain http on the LAN has
 * none, and tabs there measure side by side. Whatever got through is marked, not hidden: each measurement says on
 * a BroadcastChannel (shared by every page and tab of this origin, secure or not) that it runs, and hears the
 * others. A cell (or a serving point) whose time overlapped another measurement carries its description.
 *
 * A channel object never hears its own messages, but it does hear other channel objects of the same page: so a run
 * and a sweep started on one page (the buttons prevent it; a script might not) are caught the same way.
 */

const CHANNEL = 'inference-latency-lab:measuring';
/** How often a running measurement says so: a cell shorter than this still hears who was running at its start. */
const BEAT_MS = 500;
/**
 * A measurement not heard from for this long is gone (its tab crashed without saying 'end'; a closed or reloaded tab
 * says it on pagehide). Long on purpose: beats come from a main thread, which a finishing run keeps busy for seconds
 * (parity, the tax, CIs) and which a hidden tab's browser wakes about once a minute; missing an overlap is worse than
 * marking one that a crashed tab left behind.
 */
const STALE_MS = 60_000;

/** One tab's id, so a description can say whether the other measurement ran here or in another tab. */
const TAB = Math.random().toString(36).slice(2, 10);

interface Announcement {
  kind: 'start' | 'beat' | 'end' | 'who';
  id: string;
  tab: string;
  /** What measures, in words: 'a run', 'a serving load sweep', ... */
  what: string;
}

/** The times (this page's clock) another measurement was heard from. */
interface Heard {
  what: string;
  tab: string;
  first: number;
  last: number;
  ended: number | null;
}

/** What a measurement asks of the watch: a mark at the start of a stretch, and who overlapped it by its end. */
export interface OverlapProbe {
  mark(): number;
  /**
   * Descriptions of the other measurements that ran at some time between `mark` and now; [] when none; null when
   * nothing was watched (no BroadcastChannel), which a result must not read as "alone".
   */
  since(mark: number): string[] | null;
}

/** A probe that hears nothing and says so (null): for runs outside a page (tests, Node). */
export const NO_OVERLAP: OverlapProbe = { mark: () => 0, since: () => null };

/**
 * A measurement in progress, announced to the lab's other measurements, and what it heard of them. `end()` must
 * be called when it is over (the lock's holder does: measure-lock.ts).
 */
export class MeasurementWatch implements OverlapProbe {
  private readonly id = Math.random().toString(36).slice(2, 10);
  private readonly channel: BroadcastChannel | null;
  private readonly heard = new Map<string, Heard>();
  private readonly beat: ReturnType<typeof setInterval> | null;

  constructor(
    private readonly what: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.channel = openChannel();
    if (!this.channel) {
      this.beat = null;
      return;
    }
    this.channel.onmessage = (e: MessageEvent<Announcement>) => this.hear(e.data);
    this.say('start');
    // Who is already measuring answers at once, instead of at its next beat.
    this.say('who');
    this.beat = setInterval(() => this.say('beat'), BEAT_MS);
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.leaving);
  }

  /** The page goes away mid-measurement: the others hear its end now, not a minute later. */
  private readonly leaving = () => this.say('end');

  mark(): number {
    return this.now();
  }

  since(mark: number): string[] | null {
    if (!this.channel) return null;
    const now = this.now();
    const out: string[] = [];
    for (const h of this.heard.values()) {
      const stop = h.ended ?? Math.min(now, h.last + STALE_MS);
      if (h.first <= now && stop >= mark) out.push(describe(h));
    }
    return [...new Set(out)];
  }

  end(): void {
    if (!this.channel) return;
    clearInterval(this.beat!);
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.leaving);
    this.say('end');
    this.channel.close();
  }

  private say(kind: Announcement['kind']): void {
    try {
      this.channel?.postMessage({ kind, id: this.id, tab: TAB, what: this.what } satisfies Announcement);
    } catch {
      // A closed channel (the page is going away): there is no one left to tell.
    }
  }

  private hear(a: Announcement): void {
    if (!a || typeof a.id !== 'string' || a.id === this.id) return;
    if (a.kind === 'who') {
      this.say('beat');
      return;
    }
    const t = this.now();
    const h = this.heard.get(a.id);
    if (!h) {
      // An 'end' from one never heard running ran before this one: nothing overlapped.
      if (a.kind !== 'end')
        this.heard.set(a.id, { what: String(a.what), tab: String(a.tab), first: t, last: t, ended: null });
      return;
    }
    h.last = t;
    if (a.kind === 'end') h.ended = t;
  }
}

/** The lab's channel, or null where there is none (or the browser refuses one): then nothing is watched. */
function openChannel(): BroadcastChannel | null {
  try {
    return typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);
  } catch {
    return null;
  }
}

function describe(h: Heard): string {
  return `${h.what} ${h.tab === TAB ? 'on this page' : 'in another tab of the lab'}`;
}
