;; The resize of runtime/src/resize.ts for 8-bit RGB and RGBA sources, and preprocess.ts' normalization,
;; in WebAssembly with 128-bit SIMD. It computes the same float64 operations in the same order as the
;; JavaScript (one lane per sample), so its output is bit-identical to it; only the speed differs.
;; Hand-written rather than compiled from another language: it is a few loops, and the order of every
;; floating-point operation has to be the JavaScript's exactly, which is easiest to see and keep in the
;; text format itself.
;; Built by runtime/scripts/build-wasm.mjs into runtime/src/wasm/resize-bytes.ts.
;;
;; Memory layout is the caller's (see resize.ts): tap tables, source pixels, a ring of float64 rows and
;; the output all live in the exported memory at offsets it passes in. A tap table for n outputs is
;; start: i32[n], count: i32[n], weights: f64[n * wStride]. Each source row is resized horizontally
;; once, into a ring of wStride rows (enough for any output row's taps), and the vertical pass reads
;; the ring, so the intermediate stays in cache instead of being a whole image of float64.
(module
  (memory (export "memory") 1)

  ;; One source row: src u8 [inW][stride] (stride 3 or 4, R G B first) -> dst f64 [outW][3].
  ;; Reads 4 bytes per source pixel, so the caller leaves one readable byte after the source.
  (func $horizontalRow
    (param $row i32) (param $stride i32) (param $start i32) (param $count i32) (param $weights i32)
    (param $wStride i32) (param $outW i32) (param $dst i32)
    (local $x i32) (local $p i32) (local $k i32) (local $n i32) (local $wp i32) (local $w f64)
    (local $rg v128) (local $b f64)
    (block $xDone
      (loop $xLoop
        (br_if $xDone (i32.ge_u (local.get $x) (local.get $outW)))
        ;; r, g (one f64x2) and b start at 0, as `let r = 0` in JavaScript.
        (local.set $rg (v128.const f64x2 0 0))
        (local.set $b (f64.const 0))
        (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $x) (i32.const 2)))))
        (local.set $p
          (i32.add (local.get $row)
            (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $x) (i32.const 2))))
              (local.get $stride))))
        (local.set $wp
          (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $x) (local.get $wStride)) (i32.const 3))))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $w (f64.load (local.get $wp)))
            ;; rg += [src[p], src[p + 1]] * w;  b += src[p + 2] * w
            (local.set $rg
              (f64x2.add (local.get $rg)
                (f64x2.mul
                  (f64x2.convert_low_i32x4_u
                    (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p)))))
                  (f64x2.splat (local.get $w)))))
            (local.set $b
              (f64.add (local.get $b)
                (f64.mul (f64.convert_i32_u (i32.load8_u offset=2 (local.get $p))) (local.get $w))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
        (v128.store (local.get $dst) (local.get $rg))
        (f64.store offset=16 (local.get $dst) (local.get $b))
        (local.set $dst (i32.add (local.get $dst) (i32.const 24)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $xLoop))))

  ;; Math.round for the clamped range: 0 below 0.5, 255 from 255 on, else floor(v + 0.5), which equals
  ;; Math.round(v) for every float64 v >= 0.5 (v + 0.5 cannot round up across an integer there).
  (func $toByte (param $v f64) (result i32)
    (if (result i32) (f64.lt (local.get $v) (f64.const 0.5))
      (then (i32.const 0))
      (else
        (if (result i32) (f64.ge (local.get $v) (f64.const 255))
          (then (i32.const 255))
          (else (i32.trunc_f64_u (f64.floor (f64.add (local.get $v) (f64.const 0.5)))))))))

  ;; $toByte on both lanes: min(floor(v + 0.5), 255), zeroed where v < 0.5; as i32x4 [a, b, 0, 0].
  (func $toBytes2 (param $v v128) (result v128)
    (i32x4.trunc_sat_f64x2_u_zero
      (v128.andnot
        (f64x2.min
          (f64x2.floor (f64x2.add (local.get $v) (v128.const f64x2 0.5 0.5)))
          (v128.const f64x2 255 255))
        (f64x2.lt (local.get $v) (v128.const f64x2 0.5 0.5)))))

  ;; One output row: out u8 [rowLen] = rounded sum over k < n of rows[k] f64 [rowLen] * w[k], each sum
  ;; taken in tap order starting from 0, as the JavaScript's accumulator row.
  (func $verticalRow (param $rows i32) (param $n i32) (param $w i32) (param $rowLen i32) (param $out i32)
    (local $i i32) (local $k i32) (local $q i32) (local $wk v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $accS f64)
    ;; Eight samples at a time.
    (block $eightsDone
      (loop $eightLoop
        (br_if $eightsDone (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $rowLen)))
        (local.set $a0 (v128.const f64x2 0 0))
        (local.set $a1 (v128.const f64x2 0 0))
        (local.set $a2 (v128.const f64x2 0 0))
        (local.set $a3 (v128.const f64x2 0 0))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $q
              (i32.add (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2))))
                (i32.shl (local.get $i) (i32.const 3))))
            (local.set $wk (f64x2.splat (f64.load (i32.add (local.get $w) (i32.shl (local.get $k) (i32.const 3))))))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (v128.load (local.get $q)) (local.get $wk))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (v128.load offset=16 (local.get $q)) (local.get $wk))))
            (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (v128.load offset=32 (local.get $q)) (local.get $wk))))
            (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (v128.load offset=48 (local.get $q)) (local.get $wk))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
        ;; Low byte of each i32 lane: [a0 a0' a1 a1' a2 a2' a3 a3'] -> 8 bytes.
        (v128.store64_lane 0 (local.get $out)
          (i8x16.shuffle 0 1 2 3 16 17 18 19 0 0 0 0 0 0 0 0
            (i8x16.shuffle 0 4 16 20 0 0 0 0 0 0 0 0 0 0 0 0
              (call $toBytes2 (local.get $a0)) (call $toBytes2 (local.get $a1)))
            (i8x16.shuffle 0 4 16 20 0 0 0 0 0 0 0 0 0 0 0 0
              (call $toBytes2 (local.get $a2)) (call $toBytes2 (local.get $a3)))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eightLoop)))
    ;; The rest of the row one sample at a time.
    (block $restDone
      (loop $restLoop
        (br_if $restDone (i32.ge_u (local.get $i) (local.get $rowLen)))
        (local.set $accS (f64.const 0))
        (local.set $k (i32.const 0))
        (block $kDone
          (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $accS
              (f64.add (local.get $accS)
                (f64.mul
                  (f64.load
                    (i32.add (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2))))
                      (i32.shl (local.get $i) (i32.const 3))))
                  (f64.load (i32.add (local.get $w) (i32.shl (local.get $k) (i32.const 3)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
        (i32.store8 (local.get $out) (call $toByte (local.get $accS)))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $restLoop))))

  ;; The resize: src u8 [inH][inW][stride] -> out u8 [outH][outW][3], through a ring of yStride rows
  ;; (f64 [outW][3] each) at $ring and yStride row addresses at $rowPtrs.
  (func (export "resize")
    (param $src i32) (param $inW i32) (param $stride i32)
    (param $xStart i32) (param $xCount i32) (param $xWeights i32) (param $xStride i32)
    (param $yStart i32) (param $yCount i32) (param $yWeights i32) (param $yStride i32)
    (param $outW i32) (param $outH i32) (param $ring i32) (param $rowPtrs i32) (param $out i32)
    (local $y i32) (local $first i32) (local $n i32) (local $next i32) (local $k i32)
    (local $rowLen i32) (local $ringRowBytes i32) (local $srcRowBytes i32)
    (local.set $rowLen (i32.mul (local.get $outW) (i32.const 3)))
    (local.set $ringRowBytes (i32.shl (local.get $rowLen) (i32.const 3)))
    (local.set $srcRowBytes (i32.mul (local.get $inW) (local.get $stride)))
    (block $yDone
      (loop $yLoop
        (br_if $yDone (i32.ge_u (local.get $y) (local.get $outH)))
        (local.set $first (i32.load (i32.add (local.get $yStart) (i32.shl (local.get $y) (i32.const 2)))))
        (local.set $n (i32.load (i32.add (local.get $yCount) (i32.shl (local.get $y) (i32.const 2)))))
        ;; Source rows first .. first + n - 1 into the ring (rows only move forward with y).
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $next) (i32.add (local.get $first) (local.get $n))))
            (call $horizontalRow
              (i32.add (local.get $src) (i32.mul (local.get $next) (local.get $srcRowBytes)))
              (local.get $stride) (local.get $xStart) (local.get $xCount) (local.get $xWeights)
              (local.get $xStride) (local.get $outW)
              (i32.add (local.get $ring)
                (i32.mul (i32.rem_u (local.get $next) (local.get $yStride)) (local.get $ringRowBytes))))
            (local.set $next (i32.add (local.get $next) (i32.const 1)))
            (br $rowLoop)))
        (local.set $k (i32.const 0))
        (block $ptrsDone
          (loop $ptrLoop
            (br_if $ptrsDone (i32.ge_u (local.get $k) (local.get $n)))
            (i32.store
              (i32.add (local.get $rowPtrs) (i32.shl (local.get $k) (i32.const 2)))
              (i32.add (local.get $ring)
                (i32.mul (i32.rem_u (i32.add (local.get $first) (local.get $k)) (local.get $yStride))
                  (local.get $ringRowBytes))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ptrLoop)))
        (call $verticalRow
          (local.get $rowPtrs) (local.get $n)
          (i32.add (local.get $yWeights) (i32.shl (i32.mul (local.get $y) (local.get $yStride)) (i32.const 3)))
          (local.get $rowLen)
          (i32.add (local.get $out) (i32.mul (local.get $y) (local.get $rowLen))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yLoop))))

  ;; Normalization by table: out f32 [n] = table[c * 256 + src[i]] with c = i mod 3, n a multiple of 3;
  ;; the table holds the contract's (p * scale - mean[c]) / std[c] as float32, as the JavaScript stores it.
  (func (export "normalize") (param $src i32) (param $n i32) (param $table i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (f32.store (local.get $out)
          (f32.load (i32.add (local.get $table) (i32.shl (i32.load8_u (local.get $src)) (i32.const 2)))))
        (f32.store offset=4 (local.get $out)
          (f32.load offset=1024 (i32.add (local.get $table) (i32.shl (i32.load8_u offset=1 (local.get $src)) (i32.const 2)))))
        (f32.store offset=8 (local.get $out)
          (f32.load offset=2048 (i32.add (local.get $table) (i32.shl (i32.load8_u offset=2 (local.get $src)) (i32.const 2)))))
        (local.set $src (i32.add (local.get $src) (i32.const 3)))
        (local.set $out (i32.add (local.get $out) (i32.const 12)))
        (br $loop))))
)
