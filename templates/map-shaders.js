// aevis similarity map: the WebGL renderer's shaders and programs (map-gl.js draws with them).
// Three programs: "squares" draws every image as a square of two triangles (its thumbnail, the
// coloured frame around it and, if selected, a ring); "points" draws each image as one point of
// its colour, far out; "show" puts the last finished drawing on the canvas, moved to the view.
// GLSL ES 1.00, which WebGL 1 and 2 both compile.
(function () {
  "use strict";

  const VERTEX = `
    attribute vec2 a_corner;    // 0 or 1 across, 0 or 1 down
    attribute vec2 a_position;  // world, 0 to 1 (16-bit steps, normalised)
    attribute vec2 a_cells;     // cell on its small atlas, cell on its sharp sheet
    attribute vec4 a_mean;      // mean colour; alpha: selected
    attribute vec4 a_frame;     // frame colour
    uniform vec4 u_view;        // world to clip space: scale x, scale y, offset x, offset y
    uniform float u_half;       // half a thumbnail, world units
    uniform float u_border;     // the frame's width, world units
    uniform float u_ring;       // the selection ring's width, world units
    uniform float u_columns;    // cells a row on the bound texture
    uniform vec2 u_cellSize;    // one cell in texture coordinates
    uniform float u_sharp;      // 1: cells of the sharp sheet; 0: of the small atlas
    varying vec2 v_local;       // -1 to 1 across the thumbnail, beyond it in the frame and ring
    varying vec2 v_origin;      // the cell's top-left corner in texture coordinates
    varying vec3 v_mean;
    varying vec3 v_frame;
    varying float v_outer;      // where the frame ends, in v_local units
    void main() {
      float reach = u_half + u_border + step(0.5, a_mean.a) * u_ring;
      vec2 local = (a_corner * 2.0 - 1.0) * reach;
      gl_Position = vec4((a_position + local) * u_view.xy + u_view.zw, 0.0, 1.0);
      v_local = local / u_half;
      float cell = mix(a_cells.x, a_cells.y, u_sharp);
      float row = floor((cell + 0.5) / u_columns);
      v_origin = vec2(cell - row * u_columns, row) * u_cellSize;
      v_mean = a_mean.rgb;
      v_frame = a_frame.rgb;
      v_outer = (u_half + u_border) / u_half;
    }`;

  // Far out: one point an image, its mean colour, its frame colour, or the selection's.
  const POINT_VERTEX = `
    attribute vec2 a_position;
    attribute vec4 a_mean;
    attribute vec4 a_frame;
    uniform vec4 u_view;
    uniform float u_side;       // the point's side, device pixels
    uniform float u_framed;     // 1: coloured by the colouring
    uniform vec3 u_ringColour;
    varying vec3 v_colour;
    void main() {
      gl_Position = vec4(a_position * u_view.xy + u_view.zw, 0.0, 1.0);
      gl_PointSize = u_side;
      v_colour = a_mean.a > 0.5 ? u_ringColour : mix(a_mean.rgb, a_frame.rgb, u_framed);
    }`;

  const POINT_FRAGMENT = `
    precision mediump float;
    varying vec3 v_colour;
    void main() {
      gl_FragColor = vec4(v_colour, 1.0);
    }`;

  // The last finished drawing, moved to the view.
  const SHOW_VERTEX = `
    attribute vec2 a_corner;
    uniform vec4 u_rect;        // the drawing's corners in clip space: left, top, right, bottom
    varying vec2 v_uv;
    void main() {
      gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
      v_uv = vec2(a_corner.x, 1.0 - a_corner.y);
    }`;

  const SHOW_FRAGMENT = `
    precision mediump float;
    uniform sampler2D u_drawing;
    varying vec2 v_uv;
    void main() {
      gl_FragColor = texture2D(u_drawing, v_uv);
    }`;

  const FRAGMENT = `
    #ifdef GL_FRAGMENT_PRECISION_HIGH
    precision highp float;
    #else
    precision mediump float;
    #endif
    uniform sampler2D u_texture;
    uniform float u_paint;      // 0: the mean colour, 1: the frame colour, 2: the thumbnail
    uniform vec2 u_cellSize;
    uniform float u_inset;      // half a texel, in cell units: keeps the neighbour cell out
    uniform vec3 u_ringColour;
    varying vec2 v_local;
    varying vec2 v_origin;
    varying vec3 v_mean;
    varying vec3 v_frame;
    varying float v_outer;
    void main() {
      float edge = max(abs(v_local.x), abs(v_local.y));
      if (edge > v_outer) {
        gl_FragColor = vec4(u_ringColour, 1.0);
      } else if (edge > 1.0 || u_paint > 0.5 && u_paint < 1.5) {
        gl_FragColor = vec4(v_frame, 1.0);
      } else if (u_paint < 0.5) {
        gl_FragColor = vec4(v_mean, 1.0);
      } else {
        vec2 within = clamp(v_local * 0.5 + 0.5, u_inset, 1.0 - u_inset);
        gl_FragColor = vec4(texture2D(u_texture, v_origin + within * u_cellSize).rgb, 1.0);
      }
    }`;

  const SQUARES_NAMES = {
    attributes: ["a_corner", "a_position", "a_cells", "a_mean", "a_frame"],
    uniforms: ["u_view", "u_half", "u_border", "u_ring", "u_columns", "u_cellSize", "u_sharp",
               "u_texture", "u_paint", "u_inset", "u_ringColour"],
  };
  const POINTS_NAMES = {
    attributes: ["a_position", "a_mean", "a_frame"],
    uniforms: ["u_view", "u_side", "u_framed", "u_ringColour"],
  };
  const SHOW_NAMES = { attributes: ["a_corner"], uniforms: ["u_rect", "u_drawing"] };

  function compile(gl, type, source) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
    return shader;
  }

  /** A linked program with its attribute and uniform locations. */
  function link(gl, vertex, fragment, names) {
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    return {
      program,
      at: Object.fromEntries(names.attributes.map((name) => [name, gl.getAttribLocation(program, name)])),
      uniform: Object.fromEntries(names.uniforms.map((name) => [name, gl.getUniformLocation(program, name)])),
    };
  }

  /** The three programs, linked on `gl`: {squares, points, show}. */
  function programs(gl) {
    return {
      squares: link(gl, VERTEX, FRAGMENT, SQUARES_NAMES),
      points: link(gl, POINT_VERTEX, POINT_FRAGMENT, POINTS_NAMES),
      show: link(gl, SHOW_VERTEX, SHOW_FRAGMENT, SHOW_NAMES),
    };
  }

  const shaders = { programs, sources: { VERTEX, FRAGMENT, POINT_VERTEX, POINT_FRAGMENT, SHOW_VERTEX, SHOW_FRAGMENT } };
  if (typeof window !== "undefined") window.AevisMapShaders = shaders;
  if (typeof module !== "undefined") module.exports = shaders;
})();
