"""The one table of marketplace report formats the importer knows, and how a file is recognised.

A file is recognised by its header row, never by its name: every header cell is compared after
:func:`norm` (lower case, spaces and punctuation removed), so ``Ending Warehouse Balance``,
``EndingWarehouseBalance`` and ``ending-warehouse-balance`` are the same column.

Each :class:`Format` lists the columns as Amazon's SP-API "reports attributes" pages and Shopify's
export help pages document them (``documented``), the fields the importer reads (``fields``: one
field, one or more accepted header spellings), which of those must be present for the file to be
that format (``required``), and what the file becomes in the dataset contract (``becomes``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


def norm(name: str) -> str:
    """Header cell as compared: lower case, letters and digits only (``7 Day Total Orders (#)`` -> ``7daytotalorders``)."""
    return re.sub(r"[^0-9a-z]", "", str(name).replace("\ufeff", "").lower())


@dataclass(frozen=True)
class Format:
    name: str
    source: str  # "amazon", "shopify" or "seller" (a sheet the seller keeps: purchase orders)
    title: str
    report: str  # the report's id / name where it is downloaded
    where: str  # where to download it
    becomes: str  # what it turns into in the dataset
    documented: tuple[str, ...]  # the header as documented
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> accepted header spellings
    required: tuple[str, ...] = ()  # fields that must be present

    def resolve(self, header: list[str]) -> dict[str, int] | None:
        """Map each field to its column position in ``header``; None when a required field is missing."""
        pos = {}
        normed = [norm(h) for h in header]
        for fld, spellings in self.fields.items():
            for s in spellings:
                if norm(s) in normed:
                    pos[fld] = normed.index(norm(s))
                    break
        if any(f not in pos for f in self.required):
            return None
        return pos

    def missing(self, header: list[str]) -> list[str]:
        normed = {norm(h) for h in header}
        return [self.fields[f][0] for f in self.required if not any(norm(s) in normed for s in self.fields[f])]

    def overlap(self, header: list[str]) -> float:
        """Share of the documented columns present in ``header`` (used to pick the closest format)."""
        doc = {norm(c) for c in self.documented}
        return len(doc & {norm(h) for h in header}) / max(len(doc), 1)


def _advertised_product_fields(attribution_days: int) -> dict[str, tuple[str, ...]]:
    """Fields of an Ads console "Advertised product" report; orders and sales over its attribution window."""
    return {"date": ("Date",), "campaign": ("Campaign Name",), "ad_group": ("Ad Group Name",),
            "sku": ("Advertised SKU",), "impressions": ("Impressions",), "clicks": ("Clicks",), "spend": ("Spend",),
            "ad_sales": (f"{attribution_days} Day Total Sales",),
            "ad_orders": (f"{attribution_days} Day Total Orders (#)",),
            "budget": ("Budget", "Daily Budget", "Campaign Budget")}


_ADVERTISED_PRODUCT_REQUIRED = ("date", "campaign", "sku", "impressions", "clicks", "spend", "ad_sales", "ad_orders")


FORMATS: tuple[Format, ...] = (
    Format(
        "amazon_all_orders", "amazon", "All Orders report",
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL / GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        "Seller Central > Reports > Fulfillment > Sales > All Orders (tab-separated flat file)",
        "sales: units and revenue per SKU x channel x local day (cancelled lines left out, pending counted)",
        ("amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
         "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku",
         "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price",
         "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount",
         "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code", "ship-country",
         "promotion-ids", "cpf", "is-business-order", "purchase-order-number", "price-designation"),
        {"order_id": ("amazon-order-id",), "purchase_date": ("purchase-date",),
         "last_updated": ("last-updated-date",), "order_status": ("order-status",),
         "item_status": ("item-status",), "sales_channel": ("sales-channel",), "sku": ("sku",),
         "title": ("product-name",), "quantity": ("quantity",), "item_price": ("item-price",),
         "currency": ("currency",)},
        ("order_id", "purchase_date", "order_status", "sku", "quantity", "item_price"),
    ),
    Format(
        "amazon_manage_inventory", "amazon", "FBA Manage Inventory",
        "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
        "Seller Central > Reports > Fulfillment > Inventory > Manage FBA Inventory (download, .txt)",
        "inventory at FBA-<country> (on_hand = fulfillable + reserved, reserved) on the snapshot day; "
        "inbound-working/shipped/receiving units as an in-transit shipment line",
        ("sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
         "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity",
         "afn-fulfillable-quantity", "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity",
         "per-unit-volume", "afn-inbound-working-quantity", "afn-inbound-shipped-quantity",
         "afn-inbound-receiving-quantity", "afn-researching-quantity", "afn-reserved-future-supply",
         "afn-future-supply-buyable"),
        {"sku": ("sku",), "title": ("product-name",), "price": ("your-price",),
         "fulfillable": ("afn-fulfillable-quantity",), "reserved": ("afn-reserved-quantity",),
         "inbound_working": ("afn-inbound-working-quantity",), "inbound_shipped": ("afn-inbound-shipped-quantity",),
         "inbound_receiving": ("afn-inbound-receiving-quantity",)},
        ("sku", "fulfillable", "reserved"),
    ),
    Format(
        "amazon_ledger_summary", "amazon", "Inventory Ledger, summary view",
        "GET_LEDGER_SUMMARY_VIEW_DATA",
        "Seller Central > Reports > Fulfillment > Inventory > Inventory Ledger > Summary view "
        "(daily, aggregated by country or fulfillment center)",
        "daily inventory history at FBA-<country> (sellable ending balance) and sales.in_stock = false on "
        "days whose sellable ending balance is 0",
        ("Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "Starting Warehouse Balance",
         "In Transit Between Warehouses", "Receipts", "Customer Shipments", "Customer Returns", "Vendor Returns",
         "Warehouse Transfer In/Out", "Found", "Lost", "Damaged", "Disposed", "Other Events",
         "Ending Warehouse Balance", "Unknown Events", "Location"),
        {"date": ("Date",), "sku": ("MSKU",), "title": ("Title",), "disposition": ("Disposition",),
         "ending": ("Ending Warehouse Balance",), "location": ("Location",)},
        ("date", "sku", "disposition", "ending"),
    ),
    Format(
        "amazon_customer_returns", "amazon", "FBA customer returns",
        "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
        "Seller Central > Reports > Fulfillment > Customer Concessions > Returns",
        "returns: one row per return (units, reason) on the local return day",
        ("return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
         "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments"),
        {"date": ("return-date",), "order_id": ("order-id",), "sku": ("sku",), "quantity": ("quantity",),
         "reason": ("reason",), "disposition": ("detailed-disposition",), "lpn": ("license-plate-number",)},
        ("date", "sku", "quantity", "reason"),
    ),
    Format(
        "amazon_sp_advertised_product", "amazon", "Sponsored Products advertised product report",
        "Sponsored Products > Advertised product (daily)",
        "Amazon Ads console (Seller Central > Advertising > Measurement & Reporting > Sponsored ads reports): "
        "Sponsored Products, Advertised product, time unit Daily; save as CSV",
        "ads (ad_type SP): impressions, clicks, spend, 7-day orders and sales per campaign x SKU x day",
        ("Date", "Portfolio name", "Currency", "Campaign Name", "Ad Group Name", "Retailer", "Country",
         "Advertised SKU", "Advertised ASIN", "Impressions", "Clicks", "Click-Thru Rate (CTR)",
         "Cost Per Click (CPC)", "Spend", "7 Day Total Sales", "Total Advertising Cost of Sales (ACOS)",
         "Total Return on Advertising Spend (ROAS)", "7 Day Total Orders (#)", "7 Day Total Units (#)",
         "7 Day Conversion Rate", "7 Day Advertised SKU Units (#)", "7 Day Other SKU Units (#)",
         "7 Day Advertised SKU Sales", "7 Day Other SKU Sales"),
        _advertised_product_fields(7), _ADVERTISED_PRODUCT_REQUIRED,
    ),
    Format(
        "amazon_sd_advertised_product", "amazon", "Sponsored Display advertised product report",
        "Sponsored Display > Advertised product (daily)",
        "Amazon Ads console > Sponsored ads reports: Sponsored Display, Advertised product, Daily; save as CSV",
        "ads (ad_type SD): impressions, clicks, spend, 14-day orders and sales per campaign x SKU x day",
        ("Date", "Currency", "Campaign Name", "Portfolio name", "Cost type", "Ad Group Name", "Bid Optimization",
         "Advertised SKU", "Advertised ASIN", "Impressions", "Viewable Impressions", "Clicks",
         "Click-Thru Rate (CTR)", "Spend", "Cost Per Click (CPC)", "14 Day Total Orders (#)",
         "14 Day Total Units (#)", "14 Day Total Sales", "Total Advertising Cost of Sales (ACOS)",
         "Total Return on Advertising Spend (ROAS)"),
        _advertised_product_fields(14), _ADVERTISED_PRODUCT_REQUIRED,
    ),
    Format(
        "amazon_business_report_child", "amazon", "Business Report, Detail Page Sales and Traffic by Child Item",
        "Business Reports > By ASIN > Detail Page Sales and Traffic By Child Item",
        "Seller Central > Reports > Business Reports > By ASIN > Detail Page Sales and Traffic By Child Item "
        "(one day per download; put the day in the file name as YYYY-MM-DD, or keep a Date column)",
        "sales.sessions and sales.buybox_share (Buy Box percentage as a 0-1 share) for that day",
        ("(Parent) ASIN", "(Child) ASIN", "Title", "SKU", "Sessions - Total", "Sessions - Total - B2B",
         "Session Percentage - Total", "Session Percentage - Total - B2B", "Page Views - Total",
         "Page Views - Total - B2B", "Page Views Percentage - Total", "Page Views Percentage - Total - B2B",
         "Featured Offer (Buy Box) Percentage", "Featured Offer (Buy Box) Percentage - B2B", "Units Ordered",
         "Units Ordered - B2B", "Unit Session Percentage", "Unit Session Percentage - B2B",
         "Ordered Product Sales", "Ordered Product Sales - B2B", "Total Order Items", "Total Order Items - B2B"),
        {"date": ("Date",), "sku": ("SKU",), "child_asin": ("(Child) ASIN",),
         "sessions": ("Sessions - Total", "Sessions"),
         "buybox": ("Featured Offer (Buy Box) Percentage", "Buy Box Percentage"),
         "units": ("Units Ordered",)},
        ("sku", "child_asin", "sessions", "buybox"),
    ),
    Format(
        "shopify_orders", "shopify", "Shopify orders export",
        "Orders > Export (CSV for Excel, Numbers, or other spreadsheet programs)",
        "Shopify admin > Orders > Export > All orders (or a date range), Plain CSV file",
        "sales: units and revenue per SKU x day (channel shopify); cancelled orders left out, pending counted",
        ("Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
         "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount",
         "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
         "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
         "Lineitem fulfillment status", "Billing Name", "Shipping Name", "Notes", "Cancelled at",
         "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Id", "Tags", "Risk Level",
         "Source", "Lineitem discount"),
        {"order_id": ("Name",), "created": ("Created at",), "financial": ("Financial Status",),
         "cancelled": ("Cancelled at",), "quantity": ("Lineitem quantity",), "sku": ("Lineitem sku",),
         "price": ("Lineitem price",), "title": ("Lineitem name",)},
        ("order_id", "created", "quantity", "sku", "price"),
    ),
    Format(
        "shopify_inventory", "shopify", "Shopify inventory export",
        "Products > Inventory > Export (All quantity types)",
        "Shopify admin > Products > Inventory > Export, All locations, All quantity types",
        "inventory per Shopify location (on_hand = On hand, reserved = Committed + Unavailable) on the "
        "snapshot day",
        ("Handle", "Title", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
         "Option3 Value", "SKU", "HS Code", "COO", "Location", "Bin name", "Incoming", "Unavailable",
         "Committed", "Available", "On hand"),
        {"sku": ("SKU",), "title": ("Title",), "location": ("Location",), "on_hand": ("On hand",),
         "committed": ("Committed",), "unavailable": ("Unavailable",), "available": ("Available",)},
        ("sku", "location", "on_hand"),
    ),
    Format(
        "purchase_orders", "seller", "Purchase-order sheet (the seller's own)",
        "your purchase orders, one line per PO x SKU, in the columns of the dataset's shipments table",
        "your own spreadsheet, saved as CSV in the reports folder",
        "shipments (purchase orders: open ones have no received_date)",
        ("shipment_id", "sku", "supplier", "mode", "qty", "order_date", "ship_date", "eta", "received_date",
         "location", "freight_cost"),
        {c: (c,) for c in ("shipment_id", "sku", "supplier", "mode", "qty", "order_date", "ship_date", "eta",
                           "received_date", "location", "freight_cost")},
        ("shipment_id", "sku", "supplier", "mode", "qty", "order_date", "location"),
    ),
)

BY_NAME = {f.name: f for f in FORMATS}


def recognise(header: list[str]) -> Format | None:
    """The known format this header is, or None. Several matches: the one most of whose columns are present."""
    matches = [f for f in FORMATS if f.resolve(header) is not None]
    if not matches:
        return None
    return max(matches, key=lambda f: (f.overlap(header), len(f.required)))


def closest(header: list[str]) -> tuple[Format, list[str]]:
    """The format whose documented columns overlap the header most, with its required columns that are missing."""
    best = max(FORMATS, key=lambda f: f.overlap(header))
    return best, best.missing(header)
