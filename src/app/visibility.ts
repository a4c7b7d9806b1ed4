/** Whether the page went hidden (background tab, minimised) since a mark: hidden pages get throttled. */
export class VisibilityWatch {
  private hiddenCount = 0;
  private readonly onChange = () => {
    if (document.visibilityState === 'hidden') this.hiddenCount++;
  };
  constructor() {
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onChange);
  }
  mark(): number {
    return this.hiddenCount + (this.hiddenNow() ? 1 : 0);
  }
  hiddenSince(mark: number): boolean {
    return this.hiddenNow() || this.hiddenCount + (this.hiddenNow() ? 1 : 0) !== mark;
  }
  private hiddenNow(): boolean {
    return typeof document !== 'undefined' && document.visibilityState === 'hidden';
  }
  close(): void {
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onChange);
  }
}
