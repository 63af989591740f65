<?xml version="1.0" encoding="UTF-8"?>
<!-- Makes an Atom or RSS feed of this site, opened in a browser, read as a page that says
     what a feed is and how to subscribe, instead of a wall of XML. Feed readers ignore it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
  <xsl:variable name="self"
      select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/>
  <xsl:variable name="home"
      select="/atom:feed/atom:link[@rel='alternate']/@href | /rss/channel/link"/>

  <xsl:template match="/">
    <html lang="zh-Hant">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> · feed</title>
        <link rel="stylesheet" href="/static/site.css"/>
      </head>
      <body>
        <main class="wrap feed-preview">
          <h1><xsl:value-of select="$title"/></h1>
          <section class="subscribe-help">
            <p><strong>這是一個 feed（訂閱來源）。</strong>
              把這個網址貼到您的 RSS 閱讀器（例如 Feedly、Inoreader、NetNewsWire），有新消息時就會自動收到。</p>
            <p lang="en">This is a news feed. Paste its address into a feed reader to get new stories as they appear.</p>
            <p class="feed-address"><code><xsl:value-of select="$self"/></code></p>
            <p><a href="{$home}">在網站上閱讀這些新聞 · Read these stories on the site →</a></p>
          </section>
          <section class="river">
            <xsl:for-each select="/atom:feed/atom:entry | /rss/channel/item">
              <article class="entry">
                <h2 class="entry-title">
                  <!-- feedgen writes an Atom entry's link without rel: the alternate one. -->
                  <a href="{atom:link[not(@rel) or @rel='alternate']/@href | link}">
                    <xsl:value-of select="atom:title | title"/>
                  </a>
                </h2>
                <p class="entry-meta">
                  <xsl:value-of select="atom:author/atom:name | source"/>
                  <xsl:text> · </xsl:text>
                  <xsl:value-of select="pubDate"/>
                  <xsl:if test="atom:published">
                    <xsl:value-of select="translate(substring(atom:published, 1, 16), 'T', ' ')"/>
                    <xsl:text> UTC</xsl:text>
                  </xsl:if>
                </p>
              </article>
            </xsl:for-each>
          </section>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
