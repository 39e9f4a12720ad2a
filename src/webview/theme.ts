// The VS Code theme as the charts need it. A canvas cannot read CSS variables, so the colours are
// resolved to concrete values here, and resolved again whenever VS Code changes the theme (it
// rewrites the variables on <html> and the theme class on <body>).

export interface Palette {
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  blue: string;
  green: string;
  red: string;
  yellow: string;
  orange: string;
  purple: string;
  /** One colour per pool, in order. */
  series: string[];
  highContrast: boolean;
}

const scratch = document.createElement('canvas').getContext('2d');

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** `color` at opacity `alpha`, whatever CSS colour syntax the theme used. */
export function withAlpha(color: string, alpha: number): string {
  if (!scratch) return color;
  // The canvas normalises any CSS colour to "#rrggbb" or "rgba(r, g, b, a)".
  scratch.fillStyle = '#000000';
  scratch.fillStyle = color;
  const normal = String(scratch.fillStyle);
  // Both patterns have three groups, none optional: a match holds all three.
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(normal);
  if (hex) return `rgba(${parseInt(hex[1]!, 16)}, ${parseInt(hex[2]!, 16)}, ${parseInt(hex[3]!, 16)}, ${alpha})`;
  const rgba = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(normal);
  if (rgba) return `rgba(${rgba[1]!.trim()}, ${rgba[2]!.trim()}, ${rgba[3]!.trim()}, ${alpha})`;
  return color;
}

export function readPalette(): Palette {
  const body = document.body.classList;
  const highContrast = body.contains('vscode-high-contrast') || body.contains('vscode-high-contrast-light');
  const foreground = cssVar('--vscode-foreground', '#cccccc');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const green = cssVar('--vscode-charts-green', '#89d185');
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const yellow = cssVar('--vscode-charts-yellow', '#cca700');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const purple = cssVar('--vscode-charts-purple', '#b180d7');
  const lines = cssVar('--vscode-charts-lines', withAlpha(foreground, 0.5));
  const family = cssVar('--vscode-font-family', 'system-ui, sans-serif');
  return {
    foreground: cssVar('--vscode-charts-foreground', foreground),
    muted: cssVar('--vscode-descriptionForeground', foreground),
    // Grid lines stay faint except in high contrast, where every line must be seen.
    grid: highContrast ? lines : withAlpha(lines, 0.25),
    font: `11px ${family}`,
    blue,
    green,
    red,
    yellow,
    orange,
    purple,
    series: [blue, purple, orange, green, yellow, red],
    highContrast,
  };
}

/** Calls `onChange` (once per frame at most) whenever VS Code switches the theme. */
export function watchTheme(onChange: () => void): void {
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      onChange();
    });
  });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
