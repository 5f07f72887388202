/*
 * Whole-token substitution over UTF-8 text: the mutation hot loop.
 *
 * Why C: the pure-Python version (re.split + dict.get + join) tops out at
 * ~22 MB/s on this machine, and the regex split alone costs 20 ms per MB, so
 * no Python-level arrangement reaches the 30/60 MB/s mutate/unmutate goals in the README's figures.  The
 * Aho-Corasick libraries we measured (pyahocorasick, ahocorasick-rs) were
 * slower still once word boundaries are checked.  See bench/mutation.py.
 *
 * The semantics are defined by _reference.py, which the property tests use as
 * the oracle; keep the two in step.  A token is a maximal run of ASCII
 * [A-Za-z0-9_].  Bytes >= 0x80 are never part of a token, so UTF-8 sequences
 * pass through untouched and a chunk cut inside one is harmless.
 *
 * For each token: if the table has it, emit the replacement; else if it starts
 * with `prefix`, emit prefix+token (strip=0) or token-without-prefix (strip=1);
 * else emit it unchanged.
 *
 * json=1 treats JSON string escapes as separators: a backslash and the next
 * character are copied, and after "\u" up to four hex digits are copied too,
 * so "\nfoo" yields the token "foo", not "nfoo".
 *
 * final=0 is for streams: a token touching the end of the buffer, or an
 * unfinished escape, is not processed; its length is returned so the caller
 * can prepend it to the next chunk.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static unsigned char WORD[256];

typedef struct {
    uint64_t hash;
    Py_ssize_t key_off;
    Py_ssize_t key_len;
    Py_ssize_t val_off;
    Py_ssize_t val_len;
    int used;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask;
    char *arena;
    Py_ssize_t arena_len;
    Py_ssize_t min_len;
    Py_ssize_t max_len;
    Py_ssize_t count;
} TokenTable;

static inline uint64_t
fnv1a(const unsigned char *s, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void
TokenTable_dealloc(TokenTable *self)
{
    PyMem_Free(self->slots);
    PyMem_Free(self->arena);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
ascii_word(const char *s, Py_ssize_t n)
{
    if (n == 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!WORD[(unsigned char)s[i]]) return 0;
    return 1;
}

static int
TokenTable_init(TokenTable *self, PyObject *args, PyObject *kwds)
{
    PyObject *mapping;
    static char *kwlist[] = {"mapping", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &PyDict_Type, &mapping))
        return -1;
    Py_ssize_t n = PyDict_Size(mapping);
    size_t cap = 8;
    while (cap < (size_t)(n * 2 + 1)) cap <<= 1;
    /* First pass: size the arena and validate. */
    Py_ssize_t total = 0, pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(mapping, &pos, &k, &v)) {
        if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
            PyErr_SetString(PyExc_TypeError, "TokenTable keys and values must be str");
            return -1;
        }
        Py_ssize_t kl, vl;
        const char *ks = PyUnicode_AsUTF8AndSize(k, &kl);
        const char *vs = PyUnicode_AsUTF8AndSize(v, &vl);
        if (!ks || !vs) return -1;
        if (!ascii_word(ks, kl)) {
            PyErr_Format(PyExc_ValueError, "TokenTable key is not an ASCII token: %R", k);
            return -1;
        }
        total += kl + vl;
    }
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    char *arena = PyMem_Malloc(total ? total : 1);
    if (!slots || !arena) {
        PyMem_Free(slots);
        PyMem_Free(arena);
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(self->slots);
    PyMem_Free(self->arena);
    self->slots = slots;
    self->arena = arena;
    self->mask = cap - 1;
    self->min_len = PY_SSIZE_T_MAX;
    self->max_len = 0;
    self->count = 0;
    Py_ssize_t off = 0;
    pos = 0;
    while (PyDict_Next(mapping, &pos, &k, &v)) {
        Py_ssize_t kl, vl;
        const char *ks = PyUnicode_AsUTF8AndSize(k, &kl);
        const char *vs = PyUnicode_AsUTF8AndSize(v, &vl);
        uint64_t h = fnv1a((const unsigned char *)ks, kl);
        size_t i = (size_t)h & self->mask;
        while (slots[i].used) i = (i + 1) & self->mask;
        memcpy(arena + off, ks, kl);
        slots[i].key_off = off;
        slots[i].key_len = kl;
        off += kl;
        memcpy(arena + off, vs, vl);
        slots[i].val_off = off;
        slots[i].val_len = vl;
        off += vl;
        slots[i].hash = h;
        slots[i].used = 1;
        if (kl < self->min_len) self->min_len = kl;
        if (kl > self->max_len) self->max_len = kl;
        self->count++;
    }
    self->arena_len = off;
    return 0;
}

static inline const Slot *
lookup(const TokenTable *t, const char *s, Py_ssize_t n)
{
    if (n < t->min_len || n > t->max_len) return NULL;
    uint64_t h = fnv1a((const unsigned char *)s, n);
    size_t i = (size_t)h & t->mask;
    while (t->slots[i].used) {
        const Slot *sl = &t->slots[i];
        if (sl->hash == h && sl->key_len == n && memcmp(t->arena + sl->key_off, s, n) == 0)
            return sl;
        i = (i + 1) & t->mask;
    }
    return NULL;
}

typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
} Out;

static int
out_put(Out *o, const char *s, Py_ssize_t n)
{
    if (o->len + n > o->cap) {
        Py_ssize_t nc = o->cap * 2;
        if (nc < o->len + n) nc = o->len + n + 64;
        char *nb = PyMem_Realloc(o->buf, nc);
        if (!nb) {
            PyErr_NoMemory();
            return -1;
        }
        o->buf = nb;
        o->cap = nc;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

static inline int
is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The substitution loop over s[0:n], appended to `o`.  `*held` counts the
 * trailing characters (always ASCII) left unprocessed because final was false.
 * Returns -1 with an exception set (out of memory). */
static int
sub_core(TokenTable *self, const char *s, Py_ssize_t n, const char *prefix, Py_ssize_t plen,
         int strip, int json, int final, Out *o, Py_ssize_t *held)
{
    Py_ssize_t i = 0;
    *held = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (json && c == '\\') {
            Py_ssize_t j = i + 1;
            if (j >= n) {
                if (!final) { *held = n - i; break; }
                if (out_put(o, s + i, 1) < 0) return -1;
                i = n;
                continue;
            }
            j++; /* the escaped character */
            if (s[i + 1] == 'u') {
                Py_ssize_t k = 0;
                while (k < 4 && j < n && is_hex((unsigned char)s[j])) { j++; k++; }
                if (k < 4 && j == n && !final) { *held = n - i; break; }
            }
            if (out_put(o, s + i, j - i) < 0) return -1;
            i = j;
            continue;
        }
        if (WORD[c]) {
            Py_ssize_t j = i + 1;
            while (j < n && WORD[(unsigned char)s[j]]) j++;
            if (j == n && !final) { *held = n - i; break; }
            Py_ssize_t tl = j - i;
            const Slot *sl = lookup(self, s + i, tl);
            if (sl) {
                if (out_put(o, self->arena + sl->val_off, sl->val_len) < 0) return -1;
            } else if (plen && tl >= plen && memcmp(s + i, prefix, plen) == 0) {
                if (strip) {
                    if (out_put(o, s + i + plen, tl - plen) < 0) return -1;
                } else {
                    if (out_put(o, prefix, plen) < 0) return -1;
                    if (out_put(o, s + i, tl) < 0) return -1;
                }
            } else {
                if (out_put(o, s + i, tl) < 0) return -1;
            }
            i = j;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n && !WORD[(unsigned char)s[j]] && !(json && s[j] == '\\')) j++;
        if (out_put(o, s + i, j - i) < 0) return -1;
        i = j;
    }
    return 0;
}

/* sub(text, prefix, strip, json, final) -> (result, held)
 * text is str or bytes; result has the same type.  `held` counts the trailing
 * characters (always ASCII) left unprocessed because final was false. */
static PyObject *
TokenTable_sub(TokenTable *self, PyObject *args)
{
    PyObject *text;
    const char *prefix;
    Py_ssize_t plen;
    int strip, json, final;
    if (!PyArg_ParseTuple(args, "Os#ppp", &text, &prefix, &plen, &strip, &json, &final))
        return NULL;
    const char *s;
    Py_ssize_t n;
    int is_bytes = PyBytes_Check(text);
    if (is_bytes) {
        s = PyBytes_AS_STRING(text);
        n = PyBytes_GET_SIZE(text);
    } else if (PyUnicode_Check(text)) {
        s = PyUnicode_AsUTF8AndSize(text, &n);
        if (!s) return NULL; /* lone surrogates: the caller falls back */
    } else {
        PyErr_SetString(PyExc_TypeError, "text must be str or bytes");
        return NULL;
    }
    Out o;
    o.cap = n + n / 8 + 64;
    o.len = 0;
    o.buf = PyMem_Malloc(o.cap);
    if (!o.buf) return PyErr_NoMemory();
    Py_ssize_t held = 0;
    if (sub_core(self, s, n, prefix, plen, strip, json, final, &o, &held) < 0) {
        PyMem_Free(o.buf);
        return NULL;
    }
    PyObject *res = is_bytes ? PyBytes_FromStringAndSize(o.buf, o.len)
                             : PyUnicode_DecodeUTF8(o.buf, o.len, "strict");
    PyMem_Free(o.buf);
    if (!res) return NULL;
    PyObject *tuple = Py_BuildValue("(Nn)", res, held);
    return tuple;
}

/* A stream un-mutator (mapping.StreamUnmutator) whose feed() is one C call per
 * chunk: an SSE text delta is often a few bytes, so the per-call cost of
 * sub() (argument parsing, a result tuple, the held-back text re-joined in
 * Python) is most of the work.  Holds back at most one partial token or JSON
 * escape (ASCII) between chunks.  A str chunk that cannot be UTF-8 (a lone
 * surrogate) goes to `fallback(text, final) -> (result, held)`. */
typedef struct {
    PyObject_HEAD
    TokenTable *table;
    PyObject *fallback;
    char *prefix;
    Py_ssize_t plen;
    int strip, json, is_bytes;
    char *pend;
    Py_ssize_t pend_len, pend_cap;
    char *scratch;
    Py_ssize_t scratch_cap;
    Out o;
} Stream;

static void
Stream_dealloc(Stream *self)
{
    Py_XDECREF(self->table);
    Py_XDECREF(self->fallback);
    PyMem_Free(self->prefix);
    PyMem_Free(self->pend);
    PyMem_Free(self->scratch);
    PyMem_Free(self->o.buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
reserve(char **buf, Py_ssize_t *cap, Py_ssize_t need)
{
    if (need <= *cap) return 0;
    Py_ssize_t nc = need < 256 ? 256 : need * 2;
    char *nb = PyMem_Realloc(*buf, nc);
    if (!nb) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = nb;
    *cap = nc;
    return 0;
}

static PyObject *
Stream_result(Stream *self, const char *buf, Py_ssize_t n)
{
    if (!buf) buf = "";
    return self->is_bytes ? PyBytes_FromStringAndSize(buf, n)
                          : PyUnicode_DecodeUTF8(buf, n, "strict");
}

/* The loop over pend + s[0:n] into self->o; what is held back becomes the new pend. */
static int
Stream_sub(Stream *self, const char *s, Py_ssize_t n, int json, int final)
{
    const char *text = s;
    Py_ssize_t total = n;
    if (self->pend_len) {
        total = self->pend_len + n;
        if (reserve(&self->scratch, &self->scratch_cap, total) < 0) return -1;
        memcpy(self->scratch, self->pend, self->pend_len);
        memcpy(self->scratch + self->pend_len, s, n);
        text = self->scratch;
    }
    if (reserve(&self->o.buf, &self->o.cap, total + total / 8 + 64) < 0) return -1;
    self->o.len = 0;
    Py_ssize_t held = 0;
    if (sub_core(self->table, text, total, self->prefix, self->plen, self->strip, json, final,
                 &self->o, &held) < 0)
        return -1;
    if (reserve(&self->pend, &self->pend_cap, held) < 0) return -1;
    memmove(self->pend, text + total - held, held);
    self->pend_len = held;
    return 0;
}

static PyObject *
Stream_run(Stream *self, const char *s, Py_ssize_t n, int final)
{
    if (Stream_sub(self, s, n, self->json, final) < 0) return NULL;
    return Stream_result(self, self->o.buf, self->o.len);
}

/* Whether s[0:n] is the inside of a JSON string literal (RFC 8259: no raw '"' or
 * control character, only the defined escapes, UTF-8 as RFC 3629 allows it) in
 * which every escape stands for a character that is not part of a token: then
 * un-mutating the escaped bytes with escapes as separators (json=1) finds the
 * same tokens as un-mutating the decoded text.  "\u0041" (a letter) and a
 * surrogate escape outside a high-low pair are refused, as is anything orjson
 * would refuse. */
static int
plain_json_string(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == '"') return 0;
            if (c != '\\') {
                i++;
                continue;
            }
            if (i + 1 >= n) return 0;
            unsigned char e = s[i + 1];
            if (e == 'u') {
                if (i + 6 > n) return 0;
                unsigned int cp = 0;
                for (int k = 2; k < 6; k++) {
                    unsigned char h = s[i + k];
                    if (!is_hex(h)) return 0;
                    cp = cp * 16 + (unsigned int)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (cp < 0x80 && WORD[cp]) return 0;
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    /* only a high surrogate with its low one (a character beyond the BMP) */
                    if (cp > 0xDBFF || i + 12 > n || s[i + 6] != '\\' || s[i + 7] != 'u') return 0;
                    unsigned int lo = 0;
                    for (int k = 8; k < 12; k++) {
                        unsigned char h = s[i + k];
                        if (!is_hex(h)) return 0;
                        lo = lo * 16 + (unsigned int)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) return 0;
                    i += 6;
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                i += 2;
            } else {
                return 0;
            }
            continue;
        }
        Py_ssize_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            else if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F;
        } else {
            return 0;
        }
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (Py_ssize_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

/* feed_string(raw, start, end) -> bytes | None
 * raw[start:end] is the inside of a JSON string literal as sent, escapes and all
 * (a streamed text delta in its event's bytes).  Un-mutates it as feed() would
 * un-mutate the decoded text, sharing the held-back token with feed(), and keeps
 * the sender's escapes: returns raw with that part replaced, raw itself when
 * nothing changed, b"" when all of it is held back.  None, with the state
 * untouched, when plain_json_string refuses it: the caller decodes instead. */
static PyObject *
Stream_feed_string(Stream *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "feed_string(raw: bytes, start: int, end: int)");
        return NULL;
    }
    PyObject *raw = args[0];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(raw);
    if (start < 0 || end < start || end > size) {
        PyErr_SetString(PyExc_ValueError, "feed_string: start and end out of range");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(raw);
    Py_ssize_t n = end - start;
    if (!plain_json_string((const unsigned char *)s + start, n)) Py_RETURN_NONE;
    if (Stream_sub(self, s + start, n, 1, 0) < 0) return NULL;
    Py_ssize_t m = self->o.len;
    if (m == n && memcmp(self->o.buf, s + start, n) == 0) {
        Py_INCREF(raw);
        return raw;
    }
    if (m == 0) return PyBytes_FromStringAndSize(NULL, 0);
    PyObject *res = PyBytes_FromStringAndSize(NULL, size - n + m);
    if (!res) return NULL;
    char *d = PyBytes_AS_STRING(res);
    memcpy(d, s, start);
    memcpy(d + start, self->o.buf, m);
    memcpy(d + start + m, s + end, size - end);
    return res;
}

static PyObject *
Stream_fallback(Stream *self, PyObject *chunk, int final)
{
    PyObject *pend = PyUnicode_DecodeASCII(self->pend, self->pend_len, "strict");
    if (!pend) return NULL;
    PyObject *text = chunk ? PyUnicode_Concat(pend, chunk) : (Py_INCREF(pend), pend);
    Py_DECREF(pend);
    if (!text) return NULL;
    PyObject *r = PyObject_CallFunction(self->fallback, "Oi", text, final);
    if (!r) {
        Py_DECREF(text);
        return NULL;
    }
    PyObject *out = NULL;
    Py_ssize_t held = 0;
    if (PyArg_ParseTuple(r, "On", &out, &held)) {
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        PyObject *tail = PyUnicode_Substring(text, len - held, len);
        PyObject *ascii = tail ? PyUnicode_AsASCIIString(tail) : NULL;
        Py_XDECREF(tail);
        if (ascii && reserve(&self->pend, &self->pend_cap, held) == 0) {
            memcpy(self->pend, PyBytes_AS_STRING(ascii), held);
            self->pend_len = held;
            Py_INCREF(out);
        } else {
            out = NULL;
        }
        Py_XDECREF(ascii);
    }
    Py_DECREF(r);
    Py_DECREF(text);
    return out;
}

static PyObject *
Stream_feed(Stream *self, PyObject *chunk)
{
    if (self->is_bytes) {
        if (!PyBytes_Check(chunk)) {
            PyErr_SetString(PyExc_TypeError, "this stream takes bytes");
            return NULL;
        }
        return Stream_run(self, PyBytes_AS_STRING(chunk), PyBytes_GET_SIZE(chunk), 0);
    }
    if (!PyUnicode_Check(chunk)) {
        PyErr_SetString(PyExc_TypeError, "this stream takes str");
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(chunk, &n);
    if (!s) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
        PyErr_Clear();
        return Stream_fallback(self, chunk, 0);
    }
    return Stream_run(self, s, n, 0);
}

static PyObject *
Stream_flush(Stream *self, PyObject *Py_UNUSED(ignored))
{
    return Stream_run(self, "", 0, 1);
}

static PyObject *
Stream_pending(Stream *self, void *Py_UNUSED(closure))
{
    return Stream_result(self, self->pend, self->pend_len);
}

static PyGetSetDef Stream_getset[] = {
    {"pending", (getter)Stream_pending, NULL, "what is held back (not emitted yet)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Stream_methods[] = {
    {"feed", (PyCFunction)Stream_feed, METH_O, "feed(chunk) -> what can be emitted now"},
    {"flush", (PyCFunction)Stream_flush, METH_NOARGS, "flush() -> whatever was held back"},
    {"feed_string", (PyCFunction)(void (*)(void))Stream_feed_string, METH_FASTCALL,
     "feed_string(raw, start, end) -> raw with the JSON string inside raw[start:end] un-mutated"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StreamType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pretense_dev.mutation._kernel.Stream",
    .tp_basicsize = sizeof(Stream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A stream un-mutator over one TokenTable (TokenTable.stream).",
    .tp_dealloc = (destructor)Stream_dealloc,
    .tp_methods = Stream_methods,
    .tp_getset = Stream_getset,
};

/* stream(prefix, strip, json, is_bytes, fallback) -> Stream */
static PyObject *
TokenTable_stream(TokenTable *self, PyObject *args)
{
    const char *prefix;
    Py_ssize_t plen;
    int strip, json, is_bytes;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "s#pppO", &prefix, &plen, &strip, &json, &is_bytes, &fallback))
        return NULL;
    Stream *st = PyObject_New(Stream, &StreamType);
    if (!st) return NULL;
    st->table = self;
    Py_INCREF(self);
    st->fallback = fallback;
    Py_INCREF(fallback);
    st->plen = plen;
    st->strip = strip;
    st->json = json;
    st->is_bytes = is_bytes;
    st->pend = NULL;
    st->pend_len = st->pend_cap = 0;
    st->scratch = NULL;
    st->scratch_cap = 0;
    st->o.buf = NULL;
    st->o.len = st->o.cap = 0;
    st->prefix = PyMem_Malloc(plen ? plen : 1);
    if (!st->prefix) {
        Py_DECREF(st);
        return PyErr_NoMemory();
    }
    memcpy(st->prefix, prefix, plen);
    return (PyObject *)st;
}

static Py_ssize_t
TokenTable_len(TokenTable *self)
{
    return self->count;
}

/* lookalikes(data, hints, min_code, hints2=(), min_digits=3) -> set[str]
 * Tokens shaped like our synthetics: "_*" + a hint (ASCII case-insensitive) +
 * "_" + at least min_code characters of [0-9A-Za-z] (scheme 1), or "_*" + a
 * hint of `hints2` + at least min_digits digits and nothing else (scheme 2).
 * Hints are tuples of lower-case str.  The indexer runs this over every file
 * so that no synthetic is ever issued equal to a real token; a regex for it
 * cost as much as parsing. */
static int
load_hints(PyObject *hints, const char **hs, Py_ssize_t *hl, Py_ssize_t *nh)
{
    *nh = PyTuple_GET_SIZE(hints);
    if (*nh > 32) {
        PyErr_SetString(PyExc_ValueError, "at most 32 hints");
        return -1;
    }
    for (Py_ssize_t k = 0; k < *nh; k++) {
        hs[k] = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(hints, k), &hl[k]);
        if (!hs[k]) return -1;
    }
    return 0;
}

static PyObject *
lookalikes(PyObject *module, PyObject *args)
{
    PyObject *text, *hints, *hints2 = NULL;
    Py_ssize_t min_code, min_digits = 3;
    if (!PyArg_ParseTuple(args, "OO!n|O!n", &text, &PyTuple_Type, &hints, &min_code,
                          &PyTuple_Type, &hints2, &min_digits))
        return NULL;
    const char *s;
    Py_ssize_t n;
    if (PyBytes_Check(text)) {
        s = PyBytes_AS_STRING(text);
        n = PyBytes_GET_SIZE(text);
    } else if (PyUnicode_Check(text)) {
        s = PyUnicode_AsUTF8AndSize(text, &n);
        if (!s) return NULL;
    } else {
        PyErr_SetString(PyExc_TypeError, "text must be str or bytes");
        return NULL;
    }
    Py_ssize_t nh, nh2 = 0;
    const char *hs[32], *hs2[32];
    Py_ssize_t hl[32], hl2[32];
    if (load_hints(hints, hs, hl, &nh) < 0) return NULL;
    if (hints2 && load_hints(hints2, hs2, hl2, &nh2) < 0) return NULL;
    PyObject *out = PySet_New(NULL);
    if (!out) return NULL;
    Py_ssize_t i = 0;
    while (i < n) {
        if (!WORD[(unsigned char)s[i]]) { i++; continue; }
        Py_ssize_t j = i;
        while (j < n && WORD[(unsigned char)s[j]]) j++;
        /* token s[i:j] */
        Py_ssize_t p = i;
        while (p < j && s[p] == '_') p++;
        int found = 0;
        for (Py_ssize_t k = 0; k < nh && !found; k++) {
            Py_ssize_t L = hl[k];
            if (j - p < L + 1 + min_code) continue;
            Py_ssize_t q = 0;
            while (q < L && (s[p + q] | 0x20) == hs[k][q]) q++;
            if (q < L || s[p + L] != '_') continue;
            Py_ssize_t r = p + L + 1;
            while (r < j && s[r] != '_') r++;
            found = r == j; /* the code part has no underscore */
        }
        /* Scheme 2 only ends in digits: test the last character first. */
        if (!found && nh2 && (unsigned char)(s[j - 1] - '0') < 10) {
            for (Py_ssize_t k = 0; k < nh2 && !found; k++) {
                Py_ssize_t L = hl2[k];
                if (j - p < L + min_digits) continue;
                Py_ssize_t q = 0;
                while (q < L && (s[p + q] | 0x20) == hs2[k][q]) q++;
                if (q < L) continue;
                Py_ssize_t r = p + L;
                while (r < j && (unsigned char)(s[r] - '0') < 10) r++;
                found = r == j;
            }
        }
        if (found) {
            PyObject *tok = PyUnicode_DecodeASCII(s + i, j - i, NULL);
            if (!tok || PySet_Add(out, tok) < 0) {
                Py_XDECREF(tok);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(tok);
        }
        i = j;
    }
    return out;
}

static PyMethodDef TokenTable_methods[] = {
    {"sub", (PyCFunction)TokenTable_sub, METH_VARARGS,
     "sub(text, prefix, strip, json, final) -> (result, held)"},
    {"stream", (PyCFunction)TokenTable_stream, METH_VARARGS,
     "stream(prefix, strip, json, is_bytes, fallback) -> Stream"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods TokenTable_as_sequence = {
    .sq_length = (lenfunc)TokenTable_len,
};

static PyTypeObject TokenTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pretense_dev.mutation._kernel.TokenTable",
    .tp_basicsize = sizeof(TokenTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An immutable token -> replacement table with a whole-token substitution.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)TokenTable_init,
    .tp_dealloc = (destructor)TokenTable_dealloc,
    .tp_methods = TokenTable_methods,
    .tp_as_sequence = &TokenTable_as_sequence,
};

static PyMethodDef module_methods[] = {
    {"lookalikes", (PyCFunction)lookalikes, METH_VARARGS,
     "lookalikes(text, hints, min_code, hints2=(), min_digits=3) -> set of tokens shaped like "
     "synthetics"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT, "_kernel", "Whole-token substitution (see _reference.py).", -1,
    module_methods,
};

PyMODINIT_FUNC
PyInit__kernel(void)
{
    for (int c = 0; c < 256; c++)
        WORD[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (PyType_Ready(&TokenTableType) < 0) return NULL;
    if (PyType_Ready(&StreamType) < 0) return NULL;
    PyObject *m = PyModule_Create(&kernel_module);
    if (!m) return NULL;
    Py_INCREF(&TokenTableType);
    if (PyModule_AddObject(m, "TokenTable", (PyObject *)&TokenTableType) < 0) {
        Py_DECREF(&TokenTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
