import type { Color, Sink } from '../io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Draws on one line of a terminal until stopped, then erases itself. Returns stop. */
export function startSpinner(stream: Sink, text: string, color: Color): () => void {
  let frame = 0;
  const draw = () => {
    stream.write(`\r${color.cyan(FRAMES[frame % FRAMES.length] ?? '')} ${text}`);
    frame++;
  };
  draw();
  const timer = setInterval(draw, 80);
  return () => {
    clearInterval(timer);
    stream.write('\r\u001B[2K');
  };
}
