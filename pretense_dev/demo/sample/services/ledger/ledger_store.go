package ledger

import "fmt"

// LedgerEntry is one booked movement on a merchant account.
type LedgerEntry struct {
	EntryID       string
	MerchantRef   string
	NetAmountCents int64
}

type LedgerStore struct {
	entriesByBatch map[string][]LedgerEntry
}

func NewLedgerStore() *LedgerStore {
	return &LedgerStore{entriesByBatch: map[string][]LedgerEntry{}}
}

func (s *LedgerStore) NetForBatch(batchReference string) (int64, error) {
	entries, ok := s.entriesByBatch[batchReference]
	if !ok {
		return 0, fmt.Errorf("unknown settlement batch %s", batchReference)
	}
	var netTotal int64
	for _, entry := range entries {
		netTotal += entry.NetAmountCents
	}
	return netTotal, nil
}
