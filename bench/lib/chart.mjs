// bench/chart.svg, written by hand: rows/s against rows per call on log-log axes, one line per system.

const W = 760;
const H = 460;
const M = { left: 78, right: 190, top: 56, bottom: 62 };
const STYLES = {
  'pyudf': { color: '#1f5fbf', width: 3.2, dash: '' },
  'raw ZeroMQ echo': { color: '#555555', width: 1.8, dash: '6 4' },
  'compute floor': { color: '#999999', width: 1.8, dash: '2 4' },
  'python-shell': { color: '#d9731a', width: 2.2, dash: '' },
  'Tornado JSON': { color: '#2e8b57', width: 2.2, dash: '' },
  'floor: JSON line over a pipe': { color: '#b5651d', width: 1.4, dash: '2 3' },
  'floor: Buffer.copy': { color: '#000000', width: 1.2, dash: '1 3' },
};
const LABELS = {
  'raw ZeroMQ echo': 'raw ZeroMQ echo (transport floor)',
  'compute floor': 'apply alone in Python (compute floor)',
  'python-shell': 'python-shell (JSON lines, stdio)',
  'Tornado JSON': 'Tornado (HTTP JSON, keep-alive)',
  'floor: JSON line over a pipe': 'JSON line echoed over a pipe (floor)',
  'floor: Buffer.copy': 'one Buffer.copy of the bytes (floor)',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tick = (v) => (v >= 1e9 ? `${v / 1e9}G` : v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

/** `rows`: the identity workload's rows ({ system, rowsPerCall, rowsPerSec }); `note`: a footer line. */
export function renderChart(rows, note) {
  const systems = Object.keys(STYLES).filter((s) => rows.some((r) => r.system === s));
  const xs = rows.map((r) => r.rowsPerCall);
  const bounded = rows.filter((r) => r.system !== 'compute floor').map((r) => r.rowsPerSec);
  const x0 = 0;
  const x1 = Math.ceil(Math.log10(Math.max(...xs)));
  // The identity UDF's compute floor is near-free and far above everything; it runs off the top.
  const y0 = Math.floor(Math.log10(Math.min(...bounded)));
  const y1 = Math.ceil(Math.log10(Math.max(...bounded))) + 1;
  const px = (v) => M.left + ((Math.log10(v) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (v) => H - M.bottom - ((Math.log10(v) - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="24" font-size="15" font-weight="bold">Identity UDF, 10 float64 columns, sequential calls</text>`);
  out.push(`<text x="${M.left}" y="42" fill="#555">rows/s against rows per call (log-log); higher is better</text>`);
  out.push(`<clipPath id="plot"><rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/></clipPath>`);
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${M.left - 8}" y="${y + 4}" text-anchor="end" fill="#333">${tick(10 ** e)}</text>`);
  }
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    out.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x}" y="${H - M.bottom + 18}" text-anchor="middle" fill="#333">${tick(10 ** e)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 22}" text-anchor="middle">rows per call</text>`);
  out.push(`<text transform="translate(20 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">rows/s</text>`);
  systems.forEach((system, i) => {
    const { color, width, dash } = STYLES[system];
    const points = rows.filter((r) => r.system === system).sort((a, b) => a.rowsPerCall - b.rowsPerCall)
      .map((r) => [px(r.rowsPerCall), py(r.rowsPerSec)]);
    out.push(`<g clip-path="url(#plot)"><polyline fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' ')}"/>`);
    for (const [x, y] of points) out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${system === 'pyudf' ? 4 : 3}" fill="${color}"/>`);
    out.push('</g>');
    const ly = M.top + 14 + i * 36;
    const lx = W - M.right + 14;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    const [first, ...rest] = (LABELS[system] ?? system).split(' (');
    out.push(`<text x="${lx + 30}" y="${ly + 4}"${system === 'pyudf' ? ' font-weight="bold"' : ''}>${esc(first)}</text>`);
    if (rest.length) out.push(`<text x="${lx + 30}" y="${ly + 18}" fill="#666" font-size="11">(${esc(rest.join(' ('))}</text>`);
  });
  if (systems.includes('compute floor')) {
    out.push(`<text x="${W - M.right + 14}" y="${M.top + 14 + systems.length * 36}" fill="#666" font-size="11">compute floor: off the top</text>`);
    out.push(`<text x="${W - M.right + 14}" y="${M.top + 28 + systems.length * 36}" fill="#666" font-size="11">(identity does no work)</text>`);
  }
  out.push(`<text x="${M.left}" y="${H - 6}" fill="#777" font-size="10.5">${esc(note)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
