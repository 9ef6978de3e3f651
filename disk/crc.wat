;; Table-driven CRC-32 (any reflected polynomial), slicing by 8, for disk/crc.ts.
;; Compiled to the bytes in disk/crc-wasm.ts by `node scripts/wat.mjs` (wabt's wat2wasm);
;; test/disk/crc.test.ts checks that they agree.
;;
;; Memory (one 64 KiB page): two sets of 8 tables of 256 little-endian u32 each (8 KiB a set,
;; one set per polynomial, set k at k * 8192; table j of a set at j * 1024, where table 0 is
;; the byte-at-a-time table and table j advances a byte through j more zero bytes), then the
;; data to checksum from DATA = 16384.
(module
  (memory (export "memory") 1)
  ;; The CRC register after `len` bytes at DATA, from register `crc`, with the tables at `t`.
  (func (export "update") (param $t i32) (param $crc i32) (param $len i32) (result i32)
    (local $p i32) (local $end i32) (local $lo i32) (local $hi i32)
    (local.set $p (i32.const 16384))
    (local.set $end (i32.add (i32.const 16384) (local.get $len)))
    ;; Eight bytes a step: the register xored into the first four, each byte through its table.
    (block $done8
      (loop $step8
        (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $lo (i32.xor (local.get $crc) (i32.load (local.get $p))))
        (local.set $hi (i32.load offset=4 (local.get $p)))
        (local.set $crc
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.load offset=7168 (i32.add (local.get $t) (i32.shl (i32.and (local.get $lo) (i32.const 255)) (i32.const 2))))
                (i32.load offset=6144 (i32.add (local.get $t) (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 8)) (i32.const 255)) (i32.const 2)))))
              (i32.xor
                (i32.load offset=5120 (i32.add (local.get $t) (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 16)) (i32.const 255)) (i32.const 2))))
                (i32.load offset=4096 (i32.add (local.get $t) (i32.shl (i32.shr_u (local.get $lo) (i32.const 24)) (i32.const 2))))))
            (i32.xor
              (i32.xor
                (i32.load offset=3072 (i32.add (local.get $t) (i32.shl (i32.and (local.get $hi) (i32.const 255)) (i32.const 2))))
                (i32.load offset=2048 (i32.add (local.get $t) (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 8)) (i32.const 255)) (i32.const 2)))))
              (i32.xor
                (i32.load offset=1024 (i32.add (local.get $t) (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 16)) (i32.const 255)) (i32.const 2))))
                (i32.load (i32.add (local.get $t) (i32.shl (i32.shr_u (local.get $hi) (i32.const 24)) (i32.const 2))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $step8)))
    ;; The last bytes one at a time.
    (block $done1
      (loop $step1
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc
          (i32.xor
            (i32.load (i32.add (local.get $t) (i32.shl (i32.and (i32.xor (local.get $crc) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2))))
            (i32.shr_u (local.get $crc) (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step1)))
    (local.get $crc)))
