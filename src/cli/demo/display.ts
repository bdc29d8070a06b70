/**
 * The demo's terminal: log lines above two live bars (training progress and
 * a running summary of served recommendations). Without a TTY (CI logs) the
 * bars become plain lines, at most one serving line every few seconds.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export class Display {
  private readonly tty = Boolean(process.stdout.isTTY);
  private readonly multi = new MultiBar(
    { hideCursor: true, clearOnComplete: false, stopOnComplete: false, format: '{label}', autopadding: true },
    Presets.shades_classic,
  );
  private training: SingleBar | undefined;
  private serving: SingleBar | undefined;
  private lastPlainServing = 0;

  log(line: string): void {
    const text = `${new Date().toISOString().slice(11, 19)} ${line}`;
    if (this.tty) this.multi.log(`${text}\n`);
    else console.log(text);
  }

  trainingProgress(done: number, total: number, label: string): void {
    if (!this.tty) return;
    if (!this.training) {
      this.training = this.multi.create(total, done, { label: '' }, { format: `  training |{bar}| {percentage}% {label}` });
    }
    this.training.setTotal(total);
    this.training.update(done, { label });
  }

  trainingDone(): void {
    if (this.training) {
      this.multi.remove(this.training);
      this.training = undefined;
    }
  }

  servingSummary(label: string): void {
    if (this.tty) {
      this.serving ??= this.multi.create(1, 0, { label: '' }, { format: '  serving  {label}' });
      this.serving.update(0, { label });
    } else if (Date.now() - this.lastPlainServing > 5000) {
      this.lastPlainServing = Date.now();
      this.log(`serving  ${label}`);
    }
  }

  stop(): void {
    // MultiBar.log() buffers lines until the next redraw: flush them first
    if (this.tty) this.multi.update();
    this.multi.stop();
  }
}
